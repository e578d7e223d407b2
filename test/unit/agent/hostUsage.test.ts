import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { boundByNode, readProcessUsage, type ProcessUsage } from '../../../agent/workspaces/hostUsage';

describe("a VM's cost on its node, from its process", function () {
  this.timeout(20_000);
  const children: ChildProcess[] = [];
  after(() => children.forEach((c) => c.kill('SIGKILL')));

  function start(code: string): number {
    const c = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
    children.push(c);
    return c.pid!;
  }

  async function window(pid: number, ms: number): Promise<{ cpu: number; runnable: number }> {
    const a = (await readProcessUsage(pid))!;
    await sleep(ms);
    const b = (await readProcessUsage(pid))!;
    const span = b.atMs - a.atMs;
    const runnable = Math.max(...[...b.runnableNs].map(([tid, ns]) => ns - (a.runnableNs.get(tid) ?? ns)));
    return { cpu: (b.cpuUsec - a.cpuUsec) / 1000 / span, runnable: runnable / 1e6 / span };
  }

  it('reads a real busy process as runnable all along, and a sleeping one as neither using nor wanting a CPU', async () => {
    const busy = start('for (;;) {}');
    const idle = start('setInterval(() => {}, 60_000)');
    await sleep(300);
    const [b, i] = await Promise.all([window(busy, 1500), window(idle, 1500)]);
    // However loaded the machine, the loop wants a CPU all the time and gets some of it.
    assert.ok(b.runnable > 0.9, `busy loop runnable ${b.runnable}`);
    assert.ok(b.cpu > 0.05, `busy loop cpu ${b.cpu}`);
    assert.ok(i.runnable < 0.05 && i.cpu < 0.05, `sleeper ${JSON.stringify(i)}`);
  });

  it('says nothing of a process that is gone or a /proc that is not one', async () => {
    const gone = start('process.exit(0)');
    await new Promise((r) => children.at(-1)!.once('exit', r));
    await sleep(50);
    assert.equal(await readProcessUsage(gone), undefined);
    assert.equal(await readProcessUsage(1, '/nonexistent'), undefined);
  });

  it("scales the guest's processes by the part of its whole count the node gave, and caps a wanting thread by the node's", () => {
    const at = (ms: number, cpuUsec: number, ns: number): ProcessUsage => ({
      atMs: ms,
      cpuUsec,
      runnableNs: new Map([[7, ns]]),
    });
    const guest = { cpu: 0.6, busiestThread: 0.95, machine: 0.8 };
    // The node gave 0.2 of the 0.8 the guest counted: each process gets a quarter of its word.
    assert.deepEqual(boundByNode(guest, at(0, 0, 0), at(1000, 200_000, 0.5e9)), {
      cpu: 0.15,
      busiestThread: 0.5,
    });
    // The node gave more than the guest counted (TCG's own work): the guest's word stands.
    const asSaid = { cpu: guest.cpu, busiestThread: guest.busiestThread };
    assert.deepEqual(boundByNode(guest, at(0, 0, 0), at(1000, 900_000, 1e9)), asSaid);
    // A thread new since the first read, or a window of nothing, bounds nothing wrongly.
    const fresh = { atMs: 1000, cpuUsec: 200_000, runnableNs: new Map([[8, 1e9]]) };
    assert.equal(boundByNode(guest, at(0, 0, 0), fresh).busiestThread, 0);
    assert.deepEqual(boundByNode(guest, at(5, 0, 0), at(5, 1, 1)), asSaid);
  });
});
