/**
 * Per-workspace SSH host keys, made by the agent itself with node:crypto (no ssh-keygen on the
 * node, no key material from the image). The private key is written in OpenSSH's own
 * `openssh-key-v1` format, unencrypted, which is what sshd's HostKey reads; the public key and
 * its SHA256 fingerprint are what the coordinator pins in known_hosts.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { WorkspaceHostKey } from '../protocol';

export interface GeneratedHostKey extends WorkspaceHostKey {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----…`, for sshd's HostKey file (mode 0600). */
  privateKeyPem: string;
}

const KEY_TYPE = 'ssh-ed25519';

/** SSH wire encoding: a uint32 big-endian length, then the bytes. */
function sshString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** The public key blob: string "ssh-ed25519", string pk(32). */
export function ed25519PublicBlob(publicKey: Buffer): Buffer {
  return Buffer.concat([sshString(KEY_TYPE), sshString(publicKey)]);
}

/** As `ssh-keygen -lf` prints it: `SHA256:` + unpadded base64 of sha256(blob). */
export function fingerprintOfBlob(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** Fingerprint of a public key line `type base64 [comment]`. */
export function fingerprintOfLine(line: string): string {
  const b64 = line.trim().split(/\s+/)[1];
  if (!b64) throw new Error('not an OpenSSH public key line');
  return fingerprintOfBlob(Buffer.from(b64, 'base64'));
}

/**
 * openssh-key-v1, unencrypted (PROTOCOL.key in OpenSSH): magic, cipher "none", kdf "none",
 * empty kdf options, one key, the public blob, then the private section — two equal check
 * integers, the key (type, pk, sk||pk), a comment, and padding 1,2,3… to a multiple of 8.
 */
export function encodeOpenSshPrivateKey(seed: Buffer, publicKey: Buffer, comment: string): string {
  const check = randomBytes(4).readUInt32BE(0);
  let priv = Buffer.concat([
    uint32(check),
    uint32(check),
    sshString(KEY_TYPE),
    sshString(publicKey),
    sshString(Buffer.concat([seed, publicKey])),
    sshString(comment),
  ]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(Buffer.alloc(0)),
    uint32(1),
    sshString(ed25519PublicBlob(publicKey)),
    sshString(priv),
  ]);
  const b64 = body.toString('base64').replace(/.{1,70}/g, '$&\n');
  return `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}-----END OPENSSH PRIVATE KEY-----\n`;
}

export function generateHostKey(comment: string): GeneratedHostKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string')
    throw new Error('node:crypto returned an ed25519 key without its raw parts');
  const seed = Buffer.from(jwk.d, 'base64url');
  const pub = Buffer.from(jwk.x, 'base64url');
  const blob = ed25519PublicBlob(pub);
  return {
    type: KEY_TYPE,
    publicKey: `${KEY_TYPE} ${blob.toString('base64')}`,
    fingerprint: fingerprintOfBlob(blob),
    privateKeyPem: encodeOpenSshPrivateKey(seed, pub, comment),
  };
}
