/**
 * "Ready" means the workspace's sshd answered with its SSH banner on the published port. A
 * TCP connect alone proves nothing: the engine's port proxy accepts connections before the
 * server inside listens, then drops them.
 */
import { connect } from 'node:net';

/** One attempt: resolves with the banner line, rejects if the peer closes or stays silent. */
export function readSshBanner(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let got = '';
    const done = (err?: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(got.split('\n')[0]!.replace(/\r$/, ''));
    };
    const timer = setTimeout(() => done(new Error(`no SSH banner within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if (got.includes('\n')) {
        if (got.startsWith('SSH-')) done();
        else done(new Error(`not an SSH server: ${JSON.stringify(got.slice(0, 40))}`));
      }
    });
    socket.on('error', (err) => done(err));
    socket.on('close', () => done(new Error('closed before the SSH banner')));
  });
}

export interface WaitOptions {
  host: string;
  port: number;
  timeoutMs: number;
  /** Asked between attempts; a reason to give up early (the workspace stopped). */
  stillWorth?: () => Promise<string | undefined>;
  /** Ends the wait at its next attempt (its caller no longer needs the answer). */
  signal?: AbortSignal;
}

/**
 * The pause before the next attempt: short, since a refused attempt costs a loopback connect and
 * the server usually comes up within a second or two of the start; every pause of the wait is
 * time the user waits past the moment it answers (on average half of one).
 */
export const retryDelayMs = (attempt: number): number => Math.min(10 * 2 ** attempt, 50);
/** How often, at most, stillWorth() is asked (it asks the engine; the first ask comes after this too). */
export const STILL_WORTH_EVERY_MS = 500;

/** Retries until sshd answers, the deadline passes, or stillWorth() gives a reason to stop. */
export async function waitForSsh(opts: WaitOptions): Promise<{ banner: string } | { error: string }> {
  const until = Date.now() + opts.timeoutMs;
  let last = 'never tried';
  // Not at once: the engine is busy booting the workspace just now, and a stop shows up soon enough.
  let lastCheck = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return { banner: await readSshBanner(opts.host, opts.port, Math.max(200, Math.min(3_000, until - Date.now()))) };
    } catch (err) {
      last = (err as Error).message;
    }
    if (opts.signal?.aborted) return { error: 'the wait was cancelled' };
    if (Date.now() >= until)
      return { error: `sshd did not answer on ${opts.host}:${opts.port} within ${opts.timeoutMs / 1000} s (${last})` };
    if (opts.stillWorth && Date.now() - lastCheck >= STILL_WORTH_EVERY_MS) {
      lastCheck = Date.now();
      const reason = await opts.stillWorth();
      if (reason) return { error: reason };
    }
    await new Promise((r) => setTimeout(r, retryDelayMs(attempt)));
  }
}
