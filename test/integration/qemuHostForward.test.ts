/**
 * Ports published while a VM runs (hostForward.ts) against a real QEMU: a paused machine with
 * user-mode networking and a QMP socket is enough (no guest boot). The data path through such a
 * forward, in a booted guest, is the lifecycle suite's "a port opened by hand" check.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../agent/errors';
import { parseHostForwards, publishGuestPort } from '../../agent/providers/qemu/hostForward';
import { nodePortProbe } from '../../agent/services/ports';
import { killPids, pidAlive, requireCommands, waitGoneSync } from '../infra/sys';

describe('QEMU: a port published while the VM runs (hostfwd_add through QMP)', function () {
  this.timeout(60_000);
  let dir: string;
  let pid = 0;
  let qmp: string;
  let held: Server | undefined;

  before(async function () {
    requireCommands(this, 'the QEMU host-forward suite', ['qemu-system-x86_64']);
    dir = mkdtempSync(join(tmpdir(), 'vendetta-qemu-fwd-'));
    qmp = join(dir, 'qmp.sock');
    const pidFile = join(dir, 'qemu.pid');
    const q = spawn(
      'qemu-system-x86_64',
      [
        ...['-S', '-display', 'none', '-nodefaults', '-m', '64'],
        ...['-nic', 'user,model=virtio-net-pci'],
        ...['-qmp', `unix:${qmp},server=on,wait=off`, '-daemonize', '-pidfile', pidFile],
      ],
      { stdio: 'inherit' },
    );
    assert.equal(await new Promise((r) => q.once('exit', r)), 0, 'qemu started');
    pid = Number(readFileSync(pidFile, 'utf8'));
  });

  after(function () {
    held?.close();
    if (pid) {
      killPids([pid]);
      waitGoneSync([pid]);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('publishes a guest port on a free node port once, finds it again, and refuses clearly when QEMU cannot bind', async function () {
    assert.ok(pidAlive(pid));
    const first = await publishGuestPort(qmp, 8765);
    assert.equal(await publishGuestPort(qmp, 8765), first, 'the same guest port keeps its node port');
    const other = await publishGuestPort(qmp, 8766);
    assert.notEqual(other, first);
    // QEMU listens on them now, on the node's loopback.
    for (const port of [first, other]) assert.equal(await nodePortProbe.isFree(port), false, `127.0.0.1:${port} taken`);

    // A probe whose "free" port is held by someone else: QEMU refuses, and the error says so.
    held = createServer();
    await new Promise<void>((r) => held!.listen(0, '127.0.0.1', r));
    const taken = (held.address() as { port: number }).port;
    const probe = { isFree: async () => false, anyFree: async () => taken };
    await assert.rejects(publishGuestPort(qmp, 9000, probe), (err: unknown) => {
      assert.ok(err instanceof AgentError);
      assert.equal(err.code, 'PROVIDER_ERROR');
      assert.match(err.message, /did not publish port 9000 .*Could not set up host forwarding rule/);
      return true;
    });
  });

  it("reads QEMU's own listing of forwards (info usernet)", function () {
    const recorded =
      'Hub -1 (#net051):\r\n  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\r\n' +
      '  TCP[HOST_FORWARD]  15       127.0.0.1 45602       10.0.2.15  8080     0     0\r\n' +
      '  TCP[HOST_FORWARD]  11       127.0.0.1 45601       10.0.2.15    22     0     0\r\n' +
      '  TCP[ESTABLISHED]   20       127.0.0.1 45601       10.0.2.15    22     0     0\r\n';
    assert.deepEqual(
      [...parseHostForwards(recorded)],
      [
        [8080, 45602],
        [22, 45601],
      ],
    );
    assert.equal(parseHostForwards('').size, 0);
  });
});
