import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { retryDelayMs, STILL_WORTH_EVERY_MS, waitForSsh } from '../../../agent/workspaces/sshReady';

/** A loopback server that drops the first `refusals` connections (as an engine's port proxy does before sshd listens), then says a banner. */
async function lateServer(refusals: number): Promise<{ server: Server; port: number; accepted: () => number }> {
  let n = 0;
  const server = createServer((s) => {
    if (++n <= refusals) s.destroy();
    else s.end('SSH-2.0-OpenSSH_9.2\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { server, port, accepted: () => n };
}

describe('waiting for a workspace SSH server', () => {
  it('retries soon after each refusal: 10, 20, 40 ms, then every 50 ms', () => {
    assert.deepEqual(
      Array.from({ length: 8 }, (_, i) => retryDelayMs(i)),
      [10, 20, 40, 50, 50, 50, 50, 50],
    );
  });

  it('answers with the banner once the server says it, after the refused attempts', async () => {
    const { server, port, accepted } = await lateServer(6);
    try {
      const ready = await waitForSsh({ host: '127.0.0.1', port, timeoutMs: 20_000 });
      assert.deepEqual(ready, { banner: 'SSH-2.0-OpenSSH_9.2' });
      assert.equal(accepted(), 7);
    } finally {
      server.close();
    }
  });

  it('ends at its next attempt once its caller gives up (the login set-up beside it failed)', async () => {
    const { server, port, accepted } = await lateServer(1_000_000);
    try {
      const giveUp = new AbortController();
      const waiting = waitForSsh({ host: '127.0.0.1', port, timeoutMs: 20_000, signal: giveUp.signal });
      while (accepted() < 2) await new Promise((r) => setTimeout(r, 5));
      giveUp.abort();
      assert.deepEqual(await waiting, { error: 'the wait was cancelled' });
      const tried = accepted();
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(accepted(), tried, 'no attempt after the wait ended');
    } finally {
      server.close();
    }
  });

  it('asks whether the wait is still worth it only after a while, then gives up with its reason', async () => {
    const { server, port } = await lateServer(Number.MAX_SAFE_INTEGER);
    const t0 = Date.now();
    const asked: number[] = [];
    try {
      const ready = await waitForSsh({
        host: '127.0.0.1',
        port,
        timeoutMs: 20_000,
        stillWorth: async () => {
          asked.push(Date.now() - t0);
          return 'the workspace stopped while starting (stopped)';
        },
      });
      assert.deepEqual(ready, { error: 'the workspace stopped while starting (stopped)' });
      // Not right after the first refusal: the engine is busy starting the workspace then.
      assert.equal(asked.length, 1);
      assert.ok(asked[0]! >= STILL_WORTH_EVERY_MS, `asked after ${asked[0]} ms`);
    } finally {
      server.close();
    }
  });
});
