/**
 * An SSH session with a workspace's own sshd over a stream we already have (a direct-tcpip
 * channel on the node's pooled connection, or the coordinator's tunnel): the workspace key logs
 * in, and the host key must be the one pinned under the workspace's alias — the same check
 * OpenSSH makes with the generated ssh_config.
 */
import { readFileSync } from 'node:fs';
import type { Duplex, Readable, Writable } from 'node:stream';
import { Client, type ClientChannel } from 'ssh2';
import { withTimeout } from '../../common/async/timeout';
import { shellExitCode } from '../../common/process/exitCode';
import { VendettaError } from '../errors';
import { hostKeyAlgorithmsFor } from '../ssh/fingerprint';
import { KnownHosts } from '../ssh/knownHosts';
import { shellQuote } from '../ssh/shellQuote';

export interface WorkspaceSshOptions {
  sock: Duplex;
  alias: string;
  user: string;
  identityFile: string;
  knownHostsFile: string;
  timeoutMs?: number;
}

export async function connectWorkspace(o: WorkspaceSshOptions): Promise<Client> {
  const pinned = new KnownHosts(o.knownHostsFile).lookup(o.alias, 22);
  if (!pinned) {
    throw new VendettaError('HOST_KEY_MISMATCH', `No host key is pinned for ${o.alias}`, {
      hint: 'Run `vendetta workspace up` for it again: that pins the key the node reports.',
    });
  }
  let privateKey: Buffer;
  try {
    privateKey = readFileSync(o.identityFile);
  } catch (err) {
    throw new VendettaError('IDENTITY_INVALID', `Cannot read the workspace key ${o.identityFile}`, {
      hint: 'Run `vendetta workspace up` again to make it.',
      cause: err,
    });
  }
  const client = new Client();
  let mismatch = false;
  const timeoutMs = o.timeoutMs ?? 20_000;
  // ssh2 may report more errors while it tears a failed handshake down: they say nothing new,
  // and must not become uncaught (a CLI would die with a stack instead of its error line).
  const quietAfterFailure = () => client.on('error', () => undefined);
  const ready = new Promise<Client>((resolve, reject) => {
    client.once('ready', () => resolve(client));
    client.once('error', (err: Error & { level?: string }) => {
      quietAfterFailure();
      if (mismatch) {
        reject(
          new VendettaError(
            'HOST_KEY_MISMATCH',
            `The host key of ${o.alias} is not the one pinned in ${o.knownHostsFile}`,
            {
              hint: 'Someone may be impersonating the workspace. If it was re-created on purpose, `vendetta workspace up` re-pins its key.',
              cause: err,
            },
          ),
        );
      } else if (err.level === 'client-authentication') {
        reject(
          new VendettaError('AUTH_FAILED', `${o.user}@${o.alias} refused the workspace key`, {
            hint: '`vendetta workspace up` puts the key into the workspace again.',
            cause: err,
          }),
        );
      } else {
        reject(
          new VendettaError('TUNNEL_FAILED', `SSH to ${o.alias} failed: ${err.message}`, {
            hint: 'Is the workspace running? `vendetta workspace status` shows it.',
            cause: err,
          }),
        );
      }
    });
    client.connect({
      sock: o.sock as unknown as Readable,
      username: o.user,
      privateKey,
      readyTimeout: timeoutMs,
      algorithms: { serverHostKey: hostKeyAlgorithmsFor(pinned.keyType) as never },
      hostVerifier: (key: Buffer) => {
        const ok = pinned.key.equals(key);
        if (!ok) mismatch = true;
        return ok;
      },
    });
  });
  return withTimeout(ready, timeoutMs, () => {
    quietAfterFailure();
    client.end();
    return new VendettaError(
      'TUNNEL_FAILED',
      `${o.alias} did not finish the SSH handshake within ${timeoutMs / 1000} s`,
      { hint: 'Is the workspace running? `vendetta workspace status` shows it.' },
    );
  });
}

/** A command line for the workspace user's shell: cd into the folder, then the argv, quoted word by word. */
export function remoteCommand(argv: readonly string[], cwd?: string): string {
  const cmd = argv.map(shellQuote).join(' ');
  return cwd ? `cd ${shellQuote(cwd)} && exec ${cmd}` : `exec ${cmd}`;
}

export interface ExecIo {
  stdin?: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Ask for a terminal (raw input is the caller's business). */
  pty?: { rows: number; cols: number; term: string };
}

/** Runs `command` and streams its stdio; resolves with the exit code (128+n for a signal). */
export function execStreaming(client: Client, command: string, io: ExecIo): Promise<number> {
  return new Promise((resolve, reject) => {
    const opts = io.pty ? { pty: { rows: io.pty.rows, cols: io.pty.cols, term: io.pty.term } } : {};
    client.exec(command, opts, (err, ch: ClientChannel) => {
      if (err) {
        reject(
          new VendettaError('TUNNEL_FAILED', `The workspace refused to run the command: ${err.message}`, {
            cause: err,
          }),
        );
        return;
      }
      let code: number | undefined;
      ch.on('exit', (c: number | null, signal?: string) => {
        code = shellExitCode(c, signal);
      });
      ch.pipe(io.stdout, { end: false });
      ch.stderr.pipe(io.stderr, { end: false });
      if (io.stdin) io.stdin.pipe(ch);
      else ch.end();
      ch.on('close', () => {
        if (io.stdin) io.stdin.unpipe(ch);
        resolve(code ?? 255);
      });
    });
  });
}

/** Runs `command` and collects its output (bounded); for the coordinator's own short commands. */
export function execCollect(
  client: Client,
  command: string,
  maxBytes = 1 << 20,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, ch) => {
      if (err) {
        reject(
          new VendettaError('TUNNEL_FAILED', `The workspace refused to run a command: ${err.message}`, { cause: err }),
        );
        return;
      }
      let stdout = '';
      let stderr = '';
      let code = 255;
      ch.on('data', (d: Buffer) => {
        if (stdout.length < maxBytes) stdout += d.toString('utf8');
      });
      ch.stderr.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString('utf8')).slice(-maxBytes);
      });
      ch.on('exit', (c: number | null) => {
        if (typeof c === 'number') code = c;
      });
      ch.on('close', () => resolve({ code, stdout, stderr }));
      ch.end();
    });
  });
}
