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
}

/** Retries until sshd answers, the deadline passes, or stillWorth() gives a reason to stop. */
export async function waitForSsh(opts: WaitOptions): Promise<{ banner: string } | { error: string }> {
  const until = Date.now() + opts.timeoutMs;
  let last = 'never tried';
  let lastCheck = 0;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    try {
      return { banner: await readSshBanner(opts.host, opts.port, Math.max(200, Math.min(3_000, until - Date.now()))) };
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() >= until)
      return { error: `sshd did not answer on ${opts.host}:${opts.port} within ${opts.timeoutMs / 1000} s (${last})` };
    if (opts.stillWorth && Date.now() - lastCheck > 500) {
      lastCheck = Date.now();
      const reason = await opts.stillWorth();
      if (reason) return { error: reason };
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}
