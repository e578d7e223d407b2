/** Running one command on a node over an exec channel of an open connection. */
import type { Client, ClientChannel } from 'ssh2';
import { shellExitCode } from '../../common/process/exitCode';
import { VendettaError } from '../errors';

export interface ExecResult {
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

const MAX_OUTPUT = 1 << 20;

/** Opens an exec channel; a refused channel (dead link, MaxSessions) is NODE_UNREACHABLE. */
export function openExec(client: Client, node: string, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.exec(command, (err, channel) => {
        if (err)
          reject(
            new VendettaError('NODE_UNREACHABLE', `${node} refused to run a command: ${err.message}`, {
              node,
              cause: err,
            }),
          );
        else resolve(channel);
      });
    } catch (err) {
      reject(new VendettaError('NODE_UNREACHABLE', `The connection to ${node} is closed`, { node, cause: err }));
    }
  });
}

/** Runs `command` (already quoted for the remote shell) and collects its output. */
export async function execCollect(
  client: Client,
  node: string,
  command: string,
  opts: { timeoutMs?: number; stdin?: string | Buffer } = {},
): Promise<ExecResult> {
  const channel = await openExec(client, node, command);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise<ExecResult>((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    const timer = setTimeout(() => {
      channel.close();
      reject(
        new VendettaError('NODE_UNREACHABLE', `A command on ${node} did not finish within ${timeoutMs / 1000} s`, {
          node,
        }),
      );
    }, timeoutMs);
    channel.on('data', (b: Buffer) => {
      if (outLen < MAX_OUTPUT) out.push(b);
      outLen += b.length;
    });
    channel.stderr.on('data', (b: Buffer) => {
      if (errLen < MAX_OUTPUT) err.push(b);
      errLen += b.length;
    });
    channel.on('close', (code: number | null, signal?: string) => {
      clearTimeout(timer);
      resolve({
        code: typeof code === 'number' ? code : null,
        signal: signal ?? undefined,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    channel.end(opts.stdin);
  });
}

/** The channel's exit status once it closes, as a shell reports it (shellExitCode). */
export function exitStatus(channel: ClientChannel): Promise<number> {
  return new Promise<number>((resolve) => {
    let status: number | undefined;
    channel.once('exit', (code: number | null, signal?: string) => {
      status = shellExitCode(code, signal);
    });
    channel.once('close', () => resolve(status ?? 255));
  });
}
