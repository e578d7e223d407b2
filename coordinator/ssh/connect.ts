/**
 * One authenticated ssh2 connection to a node: our own TCP socket (so the error says which step
 * failed), modern algorithms first, the host key checked against the pin, key auth only.
 */
import type { Socket } from 'node:net';
import { Client, type Algorithms, type ConnectConfig } from 'ssh2';
import { toVendettaError, VendettaError } from '../errors';
import type { HomePaths } from '../home';
import type { Logger } from '../log';
import { fingerprintOf, hostKeyAlgorithmsFor, keyTypeOf } from './fingerprint';
import { validateHost, validatePort, validateTarget } from './hostValidation';
import { authMaterial, type AuthMaterial } from './identity';
import { KnownHosts, type PinnedKey } from './knownHosts';
import { hostPort, sshDestination, type SshNodeTarget } from './target';
import { tcpConnect, unreachable } from './tcp';

const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
];

/** Modern first; `serverHostKey` puts the pinned key's type in front so the pin is what we get. */
export function sshAlgorithms(pinnedKeyType?: string): Algorithms {
  const hostKeys = pinnedKeyType
    ? [...new Set([...hostKeyAlgorithmsFor(pinnedKeyType), ...HOST_KEY_ALGORITHMS])]
    : HOST_KEY_ALGORITHMS;
  return {
    kex: [
      'curve25519-sha256',
      'curve25519-sha256@libssh.org',
      'ecdh-sha2-nistp256',
      'ecdh-sha2-nistp384',
      'ecdh-sha2-nistp521',
      'diffie-hellman-group16-sha512',
      'diffie-hellman-group14-sha256',
    ],
    serverHostKey: hostKeys as Algorithms['serverHostKey'],
    // AES-GCM runs on AES-NI through OpenSSL; ssh2's chacha20 is slower without its native add-on.
    cipher: [
      'aes128-gcm@openssh.com',
      'aes256-gcm@openssh.com',
      'chacha20-poly1305@openssh.com',
      'aes128-ctr',
      'aes256-ctr',
    ],
    hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512'],
    compress: ['none'],
  };
}

export interface OpenSshOptions {
  paths: HomePaths;
  log: Logger;
  /** TCP connect + key exchange + auth. */
  timeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /**
   * Decides on the offered host key in place of the pin check (`node add`: trust on first use, a
   * given fingerprint, a deliberate replacement), so the key is learnt on the connection that is
   * then used instead of on one opened only to read it. Throws (a VendettaError) to refuse.
   */
  checkHostKey?: (offered: PinnedKey) => Promise<void>;
  /** Reached each step; `node test` times them. */
  onPhase?: (phase: 'tcp' | 'hostKey' | 'auth', detail: { address?: string; hostKey?: PinnedKey }) => void;
}

export interface SshLink {
  client: Client;
  hostKey: PinnedKey;
}

function hostKeyMismatch(t: SshNodeTarget, pinned: PinnedKey, actual: PinnedKey): VendettaError {
  return new VendettaError(
    'HOST_KEY_MISMATCH',
    `The host key of ${t.name} (${hostPort(t.host, t.port)}) changed: pinned ${pinned.fingerprint}, the node now offers ${actual.fingerprint}`,
    {
      node: t.name,
      hint: `If the node was reinstalled or its keys regenerated on purpose, pin the new key: \`vendetta node add ${t.name} --host ${t.host}${t.port === 22 ? '' : ` --port ${t.port}`} --replace-host-key --host-key-fingerprint ${actual.fingerprint}\`. Otherwise someone may be intercepting the connection: do not connect.`,
      details: {
        expected: pinned.fingerprint,
        actual: actual.fingerprint,
        expectedKeyType: pinned.keyType,
        actualKeyType: actual.keyType,
      },
    },
  );
}

function hostKeyUnconfirmed(t: SshNodeTarget, actual: PinnedKey): VendettaError {
  return new VendettaError(
    'HOST_KEY_UNCONFIRMED',
    `The host key of ${t.name} (${hostPort(t.host, t.port)}) is not pinned; the node offers ${actual.fingerprint}`,
    {
      node: t.name,
      hint: `Check that fingerprint on the node (\`ssh-keygen -lf /etc/ssh/ssh_host_${actual.keyType.replace(/^ssh-|-sha2-nistp\d+$/g, '')}_key.pub\`), then \`vendetta node add ${t.name} --host ${t.host} --host-key-fingerprint ${actual.fingerprint}\` (or --accept-new-host-key).`,
      details: { actual: actual.fingerprint, actualKeyType: actual.keyType },
    },
  );
}

export function authFailed(
  t: SshNodeTarget,
  auth: Pick<AuthMaterial, 'publicKeyPath' | 'agent'>,
  cause?: unknown,
): VendettaError {
  const keyArg = auth.publicKeyPath ? `-i ${auth.publicKeyPath} ` : '';
  const offered = [auth.publicKeyPath?.replace(/\.pub$/, ''), auth.agent ? 'the keys in your ssh-agent' : undefined]
    .filter(Boolean)
    .join(' and ');
  return new VendettaError(
    'AUTH_FAILED',
    `${t.user}@${t.host} refused the SSH key${offered ? ` (tried ${offered})` : ''}`,
    {
      node: t.name,
      hint: `Install the public key on the node: \`ssh-copy-id ${keyArg}${sshDestination(t)}\`, or give another key with --identity FILE.`,
      cause,
    },
  );
}

function describe(key: Buffer): PinnedKey {
  return { keyType: keyTypeOf(key), key, fingerprint: fingerprintOf(key) };
}

/** Connects and authenticates; every failure is a VendettaError naming the step that failed. */
export async function openSsh(target: SshNodeTarget, opts: OpenSshOptions): Promise<SshLink> {
  validateTarget(target);
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  const auth = await authMaterial(opts.paths, target.identity);
  const pinned = new KnownHosts(opts.paths.knownHosts).lookup(target.host, target.port);

  const sock = await tcpConnect(target.name, target.host, target.port, timeoutMs);
  opts.onPhase?.('tcp', { address: `${sock.remoteAddress ?? target.host}:${sock.remotePort ?? target.port}` });

  const client = new Client();
  let verdict: VendettaError | undefined;
  let offered: PinnedKey | undefined;
  const config: ConnectConfig = {
    sock,
    username: target.user,
    privateKey: auth.privateKey,
    agent: auth.agent,
    // Only key methods, in this order: no 'none' probe round trip, never a password.
    authHandler: [
      ...(auth.privateKey ? ['publickey'] : []),
      ...(auth.agent ? ['agent'] : []),
    ] as ConnectConfig['authHandler'],
    tryKeyboard: false,
    algorithms: sshAlgorithms(pinned?.keyType),
    readyTimeout: Math.max(1_000, deadline - Date.now()),
    keepaliveInterval: opts.keepaliveIntervalMs ?? 5_000,
    keepaliveCountMax: opts.keepaliveCountMax ?? 2,
    hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
      try {
        offered = describe(key);
      } catch (err) {
        verdict = new VendettaError('HOST_KEY_MISMATCH', `${target.name} sent a malformed host key`, {
          node: target.name,
          cause: err,
        });
        return verify(false);
      }
      const presented = offered;
      const accepted = () => {
        opts.onPhase?.('hostKey', { hostKey: presented });
        verify(true);
      };
      if (opts.checkHostKey) {
        opts.checkHostKey(presented).then(accepted, (err: unknown) => {
          verdict = toVendettaError(err);
          verify(false);
        });
        return;
      }
      if (!pinned) verdict = hostKeyUnconfirmed(target, presented);
      else if (!pinned.key.equals(key)) verdict = hostKeyMismatch(target, pinned, presented);
      if (verdict) return verify(false);
      accepted();
    },
  };

  return new Promise<SshLink>((resolve, reject) => {
    let settled = false;
    const fail = (err: VendettaError) => {
      if (settled) return;
      settled = true;
      client.removeAllListeners('ready');
      client.end();
      sock.destroy();
      reject(err);
    };
    client.on('error', (err: Error & { level?: string }) => {
      if (verdict) return fail(verdict);
      if (err.level === 'client-authentication') return fail(authFailed(target, auth, err));
      if (err.level === 'client-timeout')
        return fail(
          unreachable(
            target.name,
            target.host,
            target.port,
            err,
            `the SSH handshake did not finish within ${timeoutMs / 1000} s`,
          ),
        );
      fail(unreachable(target.name, target.host, target.port, err, `SSH failed: ${err.message}`));
    });
    client.once('close', () => {
      fail(
        verdict ??
          unreachable(
            target.name,
            target.host,
            target.port,
            new Error('closed'),
            'the node closed the connection during the SSH handshake',
          ),
      );
    });
    client.once('ready', () => {
      if (settled) return;
      settled = true;
      opts.onPhase?.('auth', {});
      opts.log.debug('ssh connected', {
        node: target.name,
        host: target.host,
        port: target.port,
        hostKey: offered?.fingerprint,
      });
      resolve({ client, hostKey: offered! });
    });
    try {
      client.connect(config);
    } catch (err) {
      fail(
        new VendettaError('IDENTITY_INVALID', `Cannot use the SSH key for ${target.name}: ${(err as Error).message}`, {
          node: target.name,
          cause: err,
        }),
      );
    }
  });
}

/** The host key a node offers, read during key exchange; nothing is authenticated or pinned. */
export async function probeHostKey(host: string, port: number, opts: { timeoutMs?: number } = {}): Promise<PinnedKey> {
  validateHost(host);
  validatePort(port);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const sock: Socket = await tcpConnect(host, host, port, timeoutMs);
  return new Promise<PinnedKey>((resolve, reject) => {
    const client = new Client();
    let key: PinnedKey | undefined;
    let badKey: unknown;
    const done = () => {
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end();
      sock.destroy();
      if (key) resolve(key);
      else if (badKey)
        reject(
          new VendettaError('HOST_KEY_MISMATCH', `${hostPort(host, port)} sent a malformed host key`, {
            cause: badKey,
          }),
        );
      else reject(unreachable(host, host, port, new Error('no host key'), 'the SSH server sent no host key'));
    };
    client.on('error', done);
    client.on('close', done);
    client.on('ready', done);
    client.connect({
      sock,
      username: 'vendetta-probe',
      algorithms: sshAlgorithms(),
      readyTimeout: timeoutMs,
      authHandler: [],
      hostVerifier: (blob: Buffer) => {
        try {
          key = describe(blob);
        } catch (err) {
          badKey = err;
        }
        return false; // we only wanted the key: end the handshake here
      },
    });
  });
}
