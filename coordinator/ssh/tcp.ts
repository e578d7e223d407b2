/** The TCP step of a connection on its own, so "cannot reach" and "SSH refused" are told apart. */
import { connect, type Socket } from 'node:net';
import { VendettaError } from '../errors';
import { hostPort } from './target';

const REASONS: Record<string, string> = {
  ENOTFOUND: 'the name does not resolve (DNS)',
  EAI_AGAIN: 'DNS did not answer',
  ECONNREFUSED: 'nothing listens on that port (connection refused)',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
  ETIMEDOUT: 'the connection timed out',
  ECONNRESET: 'the connection was reset',
};

export function describeNetworkError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (code && REASONS[code]) ?? (err instanceof Error ? err.message : String(err));
}

export function unreachable(node: string, host: string, port: number, cause: unknown, what?: string): VendettaError {
  return new VendettaError(
    'NODE_UNREACHABLE',
    `Cannot reach ${node} at ${hostPort(host, port)}: ${what ?? describeNetworkError(cause)}`,
    {
      node,
      hint: `Check that the node is up and that \`ssh ${port === 22 ? '' : `-p ${port} `}${host}\` works from here; \`vendetta node test ${node}\` runs each step.`,
      cause,
    },
  );
}

/** Resolves and connects, rejecting with NODE_UNREACHABLE (naming the cause) after `timeoutMs`. */
export function tcpConnect(node: string, host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      const err = Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' });
      reject(unreachable(node, host, port, err));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      // JSON-RPC messages are small and latency-bound: do not let Nagle hold them back.
      sock.setNoDelay(true);
      coalesceWrites(sock);
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      sock.destroy();
      reject(unreachable(node, host, port, err));
    });
  });
}

/**
 * Makes the writes of one synchronous run leave as one writev. ssh2 without its native add-on
 * (the bundle ships none) writes every packet in three or four pieces — length, ciphertext,
 * MAC — and with Nagle off each piece was its own TCP segment and its own wake-up of sshd.
 */
export function coalesceWrites(sock: Socket): void {
  const write = sock.write.bind(sock) as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = () => {
    corked = false;
    sock.uncork();
  };
  sock.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as typeof sock.write;
}
