/**
 * Which key proves who we are to a node. Key auth only: `--identity FILE`, else the user's
 * ssh-agent (SSH_AUTH_SOCK), else an ed25519 key vendetta generates once in $VENDETTA_HOME/keys.
 * Passphrases are never asked for: an encrypted key belongs in ssh-agent.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { homedir, hostname, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { utils } from 'ssh2';
import type { HomePaths } from '../home';
import { VendettaError } from '../errors';

export interface IdentityInfo {
  privateKeyPath?: string;
  useAgent: boolean;
  /** `ssh-ed25519 AAAA… comment`, to put in the node's authorized_keys. */
  publicKey?: string;
  /** True when this call created the key: the caller shows how to install it. */
  generated: boolean;
}

/** The credentials one connection offers, in order: the key file, then the agent. */
export interface AuthMaterial {
  privateKey?: Buffer;
  privateKeyPath?: string;
  agent?: string;
  /** The public key file to name in an `ssh-copy-id -i` hint. */
  publicKeyPath?: string;
}

export const GENERATED_KEY_NAME = 'id_ed25519';

export function generatedKeyPath(paths: HomePaths): string {
  return join(paths.keysDir, GENERATED_KEY_NAME);
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : resolve(p);
}

function agentSocket(): string | undefined {
  const sock = process.env.SSH_AUTH_SOCK;
  if (!sock) return undefined;
  try {
    return statSync(sock).isSocket() ? sock : undefined;
  } catch {
    return undefined;
  }
}

/** Reads and parses a private key; IDENTITY_INVALID says why it cannot be used. */
export function loadPrivateKey(file: string): { data: Buffer; publicKey: string } {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    throw new VendettaError('IDENTITY_INVALID', `Cannot read the identity file ${file}`, {
      hint: 'Give a readable private key with `--identity FILE`.',
      cause: err,
    });
  }
  const parsed = utils.parseKey(data);
  if (parsed instanceof Error) {
    const encrypted = /passphrase|encrypted/i.test(parsed.message);
    throw new VendettaError(
      'IDENTITY_INVALID',
      encrypted
        ? `The identity file ${file} is protected by a passphrase`
        : `The identity file ${file} is not a private key vendetta can use`,
      {
        hint: encrypted
          ? `vendetta never asks for passphrases: add the key to your ssh-agent (\`ssh-add ${file}\`) and leave out --identity.`
          : 'Use an OpenSSH or PEM private key (ed25519, ecdsa or rsa).',
        cause: parsed,
      },
    );
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key.getPrivatePEM() === null) {
    throw new VendettaError('IDENTITY_INVALID', `The identity file ${file} holds no private key`, {
      hint: 'Give the private half of the key pair (not the .pub file).',
    });
  }
  return { data, publicKey: `${key.type} ${key.getPublicSSH().toString('base64')}` };
}

export async function ensureIdentity(paths: HomePaths, identity?: string): Promise<IdentityInfo> {
  if (identity) {
    const file = expandHome(identity);
    const { publicKey } = loadPrivateKey(file);
    return { privateKeyPath: file, useAgent: false, publicKey, generated: false };
  }
  if (agentSocket()) return { useAgent: true, generated: false };

  return { ...(await ensureKeyFile(generatedKeyPath(paths))), useAgent: false };
}

/**
 * An ed25519 key pair at `file` (+ `.pub`), generated once when absent. Also the workspace key
 * (keys/workspace_ed25519), which OpenSSH reads through the generated ssh_config.
 */
export async function ensureKeyFile(
  file: string,
): Promise<{ privateKeyPath: string; publicKey: string; generated: boolean }> {
  if (existsSync(file)) {
    const { publicKey } = loadGeneratedKey(file);
    return { privateKeyPath: file, publicKey, generated: false };
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const pair = generateEd25519Pair(keyComment());
  // Written whole under a temp name, then linked into place: a coordinator racing us either wins
  // or finds a complete key, never a half-written one, and never overwrites ours.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, pair.private, { mode: 0o600, flag: 'wx' });
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const { publicKey } = loadGeneratedKey(file);
    return { privateKeyPath: file, publicKey, generated: false };
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  await writeFile(`${file}.pub`, pair.public + '\n', { mode: 0o644 });
  return { privateKeyPath: file, publicKey: pair.public, generated: true };
}

/** A key vendetta made itself: if it is unreadable, say how to have a new one made. */
function loadGeneratedKey(file: string): { data: Buffer; publicKey: string } {
  try {
    return loadPrivateKey(file);
  } catch (err) {
    if (!(err instanceof VendettaError) || err.code !== 'IDENTITY_INVALID') throw err;
    throw new VendettaError(err.code, err.message, {
      hint: `vendetta generated this key (older versions made one in 256 unreadable): delete ${file} and ${file}.pub, and the next command makes a new one.`,
      cause: err,
    });
  }
}

/**
 * An ed25519 pair in OpenSSH format. ssh2's generator drops the leading zero bytes of the public
 * key, so about one pair in 256 comes out with a 31-byte key that neither ssh2 nor OpenSSH will
 * read (mscdex/ssh2#1390); such a pair is thrown away and another made.
 */
export function generateEd25519Pair(
  comment: string,
  generate = utils.generateKeyPairSync,
): { private: string; public: string } {
  for (let attempt = 1; ; attempt++) {
    const pair = generate('ed25519', { comment });
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error))
      return pair;
    if (attempt === 8)
      throw new VendettaError('INTERNAL', 'Could not generate a usable ed25519 key', {
        hint: 'Give a key of your own with --identity FILE.',
      });
  }
}

function keyComment(): string {
  let user = 'user';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers): keep the default
  }
  return `vendetta@${safeComment(user)}-${safeComment(hostname())}`;
}

function safeComment(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40) || 'unknown';
}

/**
 * What a connection to `identity`'s node offers: the given key alone, or the agent plus the
 * generated key when it exists (so a node set up with either one works).
 */
export async function authMaterial(paths: HomePaths, identity?: string): Promise<AuthMaterial> {
  if (identity) {
    const file = expandHome(identity);
    const { data } = loadPrivateKey(file);
    return { privateKey: data, privateKeyPath: file, publicKeyPath: `${file}.pub` };
  }
  const out: AuthMaterial = { agent: agentSocket() };
  const generated = generatedKeyPath(paths);
  if (existsSync(generated)) {
    out.privateKey = await readFile(generated);
    out.privateKeyPath = generated;
    out.publicKeyPath = `${generated}.pub`;
  }
  if (!out.agent && !out.privateKey) {
    throw new VendettaError('IDENTITY_INVALID', 'No SSH key to log in with', {
      hint: 'Give one with `--identity FILE`, start an ssh-agent holding your key, or let `vendetta node add` generate one.',
    });
  }
  return out;
}
