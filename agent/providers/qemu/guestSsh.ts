/**
 * The agent's one held SSH connection into a VM (ssh2), to its control server on the node's
 * loopback: every exec, service and health check of the workspace is a channel on it, so a
 * check never costs a new session. The guest must present the workspace's pinned host key, or
 * the connection is refused. Reconnects on the next call after the connection drops.
 */
import { Client, type ClientChannel } from 'ssh2';
import { shellExitCode } from '../../../common/process/exitCode';
import { AgentError } from '../../errors';
import type { ExecOptions, ExecResult } from '../contract';
import { TailBuffer } from '../docker/stream';
import { envPreamble, guestCommand } from './guestCommand';

const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
const COLLECT_MAX = 1024 * 1024;

export interface GuestTarget {
  port: number;
  /** 127.0.0.1 (the VM's forwarded control port) unless said. */
  host?: string;
  /** root unless said. */
  user?: string;
  /** OpenSSH private key (the agent's control key). */
  privateKey: string;
  /** `ssh-ed25519 AAAA…`: the only host key accepted. */
  hostPublicKey: string;
}

function keyBlob(line: string): Buffer {
  return Buffer.from(line.trim().split(/\s+/)[1] ?? '', 'base64');
}

/** One SSH handshake, resolved once authenticated. */
export function connectOnce(t: GuestTarget, timeoutMs: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    const expected = keyBlob(t.hostPublicKey);
    let wrongKey = false;
    let settled = false;
    c.once('ready', () => {
      settled = true;
      resolve(c);
    });
    // ssh2 may report more than one error per connection; only the first before the login counts,
    // and the listener stays so a later one is never an uncaught exception.
    c.on('error', (err) => {
      if (settled) return;
      settled = true;
      c.end();
      reject(wrongKey ? new Error("the VM presented another host key than the workspace's", { cause: err }) : err);
    });
    c.once('close', () => {
      if (settled) return;
      settled = true;
      reject(new Error('the connection closed before the login'));
    });
    c.connect({
      host: t.host ?? '127.0.0.1',
      port: t.port,
      username: t.user ?? 'root',
      privateKey: t.privateKey,
      readyTimeout: timeoutMs,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => {
        wrongKey = !key.equals(expected);
        return !wrongKey;
      },
    });
  });
}

export class GuestConnection {
  private client: Promise<Client> | undefined;

  constructor(private readonly target: GuestTarget) {}

  get port(): number {
    return this.target.port;
  }

  private connection(): Promise<Client> {
    if (!this.client) {
      const made = connectOnce(this.target, 20_000);
      this.client = made;
      made.then(
        (c) => {
          const drop = (): void => {
            if (this.client === made) this.client = undefined;
          };
          c.on('close', drop);
          c.on('error', drop);
        },
        () => {
          if (this.client === made) this.client = undefined;
        },
      );
    }
    return this.client;
  }

  /** The connection, made now if none is held (a boot wait calls this until it works). */
  async ready(): Promise<void> {
    await this.connection();
  }

  async exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const env = opts.env ?? {};
    if (opts.tty === true || Object.keys(env).length === 0) return this.run(guestCommand(argv, opts), opts);
    // The environment goes ahead of stdin, never into the command line (see guestCommand.ts).
    return this.run(guestCommand(argv, opts), { ...opts, stdin: withPreamble(envPreamble(env), opts.stdin) });
  }

  /** A shell command line (for the provider's own scripts), with the same options. */
  async run(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const client = await this.connection().catch((err: unknown) => {
      throw new AgentError('WORKSPACE_NOT_RUNNING', 'The VM does not answer on its control SSH connection', {
        provider: 'qemu',
        hint: 'Start the workspace (`vendetta workspace up`), or see its console log.',
        cause: err,
      });
    });
    if (opts.signal?.aborted) throw cancelled();
    // The channel's listeners go on in ssh2's callback itself: the exit status may arrive in the
    // same read as the exec's success, before an awaiting caller would run, and then be lost.
    return new Promise<ExecResult>((resolve, reject) => {
      client.exec(command, { pty: opts.tty === true }, (err, ch) =>
        err ? reject(err) : pump(ch, opts).then(resolve, reject),
      );
    });
  }

  close(): void {
    const c = this.client;
    this.client = undefined;
    void c?.then(
      (x) => x.end(),
      () => undefined,
    );
  }
}

function withPreamble(first: Buffer, rest: ExecOptions['stdin']): Buffer | AsyncIterable<Buffer> {
  if (rest === undefined) return first;
  if (Buffer.isBuffer(rest)) return Buffer.concat([first, rest]);
  return (async function* () {
    yield first;
    yield* rest;
  })();
}

/** The part of ssh2's channel that `signal()` uses, reached past its check (see killRemote). */
interface ChannelInternals {
  outgoing?: { id: number; state: string };
  _client?: { _protocol?: { signal?(channelId: number, name: string): void } };
}

/**
 * Sends the session a "signal" KILL request. ssh2's `channel.signal()` sends nothing once stdin
 * is ended (state `eof`, as for every exec without stdin) though SSH allows it then, so the request goes
 * through the channel's own protocol object, as `signal()` itself does; `signal()` when that is absent.
 */
function killRemote(channel: ClientChannel): void {
  const inner = channel as unknown as ChannelInternals;
  const send = inner._client?._protocol?.signal;
  const state = inner.outgoing?.state;
  if ((state === 'open' || state === 'eof') && send) send.call(inner._client!._protocol, inner.outgoing!.id, 'KILL');
  else channel.signal('KILL');
}

const cancelled = (): AgentError =>
  new AgentError('PROVIDER_ERROR', 'A command in the VM was cancelled', { provider: 'qemu' });

function pump(channel: ClientChannel, opts: ExecOptions): Promise<ExecResult> {
  const out = new TailBuffer(COLLECT_MAX);
  const err = new TailBuffer(COLLECT_MAX);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    let exitCode: number | undefined;
    const signal = opts.signal;
    // Cancelled: the guest's sshd kills the command (OpenSSH honours a session's "signal"
    // request), and closing the channel ends the exec here whether or not it did.
    const cancel = (): void => {
      if (timer) clearTimeout(timer);
      killRemote(channel);
      channel.close();
      reject(cancelled());
    };
    // 0: no bound (a service's main command runs until it is stopped), as with the other providers.
    const timer =
      timeoutMs > 0
        ? setTimeout(() => {
            channel.close();
            reject(
              new AgentError('PROVIDER_ERROR', `A command in the VM did not finish within ${timeoutMs / 1000} s`, {
                provider: 'qemu',
              }),
            );
          }, timeoutMs)
        : undefined;
    channel.on('data', (c: Buffer) => (opts.onStdout ? opts.onStdout(c) : out.push(c)));
    channel.stderr.on('data', (c: Buffer) => (opts.onStderr ? opts.onStderr(c) : err.push(c)));
    channel.on('exit', (code: number | null, signal?: string) => {
      exitCode = shellExitCode(code, signal);
    });
    if (signal?.aborted) return cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    channel.on('close', () => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
      resolve({ exitCode: exitCode ?? 255, stdout: out.toString(), stderr: err.toString() });
    });
    const stdin = opts.stdin;
    if (stdin === undefined) channel.end();
    else if (Buffer.isBuffer(stdin)) channel.end(stdin);
    else {
      void (async () => {
        try {
          for await (const c of stdin) if (!channel.write(c)) await new Promise((r) => channel.once('drain', r));
          channel.end();
        } catch {
          channel.close();
        }
      })();
    }
  });
}
