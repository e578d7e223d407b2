/** Host key blobs as SSH sends them (RFC 4253 §6.6): a length-prefixed key type, then the key. */
import { createHash } from 'node:crypto';

/** `SHA256:` + unpadded base64 of the blob's SHA-256, exactly what `ssh-keygen -lf` prints. */
export function fingerprintOf(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** The key type named inside a blob (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`…). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) throw new Error('A host key blob is too short');
  const len = key.readUInt32BE(0);
  if (len < 1 || len > 64 || 4 + len > key.length) throw new Error('A host key blob has a malformed type field');
  const type = key.subarray(4, 4 + len).toString('latin1');
  if (!/^[A-Za-z0-9@._-]+$/.test(type)) throw new Error('A host key blob has a malformed type field');
  return type;
}

/** Normalizes `SHA256:abc` / `sha256:abc=` / `abc` to `SHA256:abc` for comparison; undefined if it is not one. */
export function normalizeFingerprint(fp: string): string | undefined {
  const m = /^(?:sha256:)?([A-Za-z0-9+/]{43})=?$/i.exec(fp.trim());
  return m ? `SHA256:${m[1]}` : undefined;
}

/**
 * The signature algorithms that prove a key of this type, for ssh2's `serverHostKey` list
 * (an RSA key is pinned as `ssh-rsa` but is negotiated as rsa-sha2-*).
 */
export function hostKeyAlgorithmsFor(keyType: string): string[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [keyType];
}
