import assert from 'node:assert/strict';
import type { GuestConnection } from '../../../agent/providers/qemu/guestSsh';
import { AgentError } from '../../../agent/errors';
import { startFakeGuest, type FakeGuest } from './fakeGuest';

/**
 * The agent's held SSH connection into a VM, against an in-process ssh2 server standing in for
 * the guest's control sshd: the command `hold MS` answers after MS milliseconds, `forever` never.
 */
describe('QEMU: the held SSH connection into the VM bounds a command only when asked to', function () {
  let guest: FakeGuest;
  let conn: GuestConnection;

  before(async () => {
    guest = await startFakeGuest(({ command, channel }) => {
      const held = /^hold (\d+)$/.exec(command);
      if (!held) return; // `forever`: the channel stays open
      setTimeout(() => {
        channel.write('done\n');
        channel.exit(0);
        channel.end();
      }, Number(held[1]));
    });
    conn = guest.conn;
  });

  after(() => guest?.close());

  it('timeoutMs 0 (a service that runs until stopped) waits for the command however long it takes', async () => {
    const r = await conn.run('hold 300', { timeoutMs: 0 });
    assert.deepEqual([r.exitCode, r.stdout], [0, 'done\n']);
  });

  it('a positive timeoutMs ends a command that does not finish, with a clear error', async () => {
    await assert.rejects(conn.run('forever', { timeoutMs: 200 }), /A command in the VM did not finish within 0\.2 s/);
    const r = await conn.run('hold 10', {});
    assert.equal(r.stdout, 'done\n', 'the connection still serves the next command');
  });

  it('a cancelled command ends at once: the guest is sent KILL, its channel is closed, the error says cancelled', async () => {
    /** A stdin still streaming when the call is cancelled (ssh2's fake server hears no signal after stdin's EOF). */
    async function* streaming(signal: AbortSignal): AsyncIterable<Buffer> {
      yield Buffer.from('first\n');
      await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
    }
    for (const fed of [true, false]) {
      const ac = new AbortController();
      const t0 = Date.now();
      const running = conn.run('forever', {
        timeoutMs: 0,
        signal: ac.signal,
        ...(fed ? { stdin: streaming(ac.signal) } : {}),
      });
      setTimeout(() => ac.abort(), 200);
      await assert.rejects(
        running,
        (e: unknown) =>
          e instanceof AgentError && e.code === 'PROVIDER_ERROR' && /in the VM was cancelled/.test(e.message),
      );
      assert.ok(Date.now() - t0 < 2_000, `took ${Date.now() - t0} ms`);
      const exec = guest.execs.at(-1)!;
      assert.equal(exec.command, 'forever');
      for (let i = 0; i < 50 && !exec.closed; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(exec.closed, true, 'the channel is closed');
      if (fed) assert.deepEqual(exec.signals, ['KILL']);
    }
    assert.equal((await conn.run('hold 10', {})).stdout, 'done\n', 'the connection still serves the next command');
  });

  it('a signal cancelled before the call runs nothing in the guest', async () => {
    const before = guest.execs.length;
    await assert.rejects(conn.run('hold 10', { signal: AbortSignal.abort() }), /in the VM was cancelled/);
    assert.equal(guest.execs.length, before);
  });
});
