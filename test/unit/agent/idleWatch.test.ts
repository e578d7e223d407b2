import assert from 'node:assert/strict';
import { nullLogger } from '../../../agent/log/logger';
import type { ProviderWorkspace, WorkspaceProvider } from '../../../agent/providers/contract';
import type { TcpSocket } from '../../../agent/workspaces/activity';
import { IdleWatch, lookIntervalMs } from '../../../agent/workspaces/idleWatch';

const LISTEN_SSH =
  '   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0';
const SSH_SESSION =
  '   1: 0200A8C0:0016 0100A8C0:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 20 4 30 10 -1';

/** A workspace whose sockets and CPU counter the test sets; the provider answers the probe from them. */
class Box {
  state: ProviderWorkspace['state'] = 'running';
  startedAt = new Date(0).toISOString();
  session = false;
  cpuUsec = 0;
  /** The busiest thread's time run plus waited for (ns), the clock (s) and the probe's own shell's pid. */
  runnableNs = 0;
  probePid = 500;
  /** The workspace's clock (ms), read by the probe as its uptime. */
  constructor(readonly clock: () => number) {}
  failProbe = false;
  /**
   * Probed like a VM: over an SSH session inside (the probe's shell a child of the agent's sshd
   * session), each look also finding a new health check that has used `checkJiffies` so far, and
   * the service (seen at every look) having used `serviceJiffies`.
   */
  vm = false;
  checkJiffies = 0;
  serviceJiffies = 0;
  /** The guest kernel's whole busy count (/proc/stat), in 1/100 s. */
  machineJiffies = 0;
  /** The VM's process on the node, when the provider reads it: its CPU (µs) and a vCPU thread's runnable ns. */
  node: { cpuUsec: number; runnableNs: number; emulated?: boolean } | undefined;
  /** Full thread lines (`pid tid (comm) stat… @@ schedstat`) for the VM's processes. */
  private vmLines(): string {
    const line = (pid: number, comm: string, ppid: number, utime: number, cutime: number, start: number) =>
      `${pid} ${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 0 0 0 0 0 ${utime} 0 ${cutime} 0 20 0 1 0 ${start} @@ ${utime * 1e7} 0 1\n`;
    return (
      line(1, 'systemd', 0, 300, 9000, 1) +
      line(80, 'sshd-session', 1, 900, 5000 + this.probePid * 30, 50) +
      line(40, 'node', 80, this.serviceJiffies, 0, 60) +
      line(this.probePid + 1000, 'sh', 80, this.checkJiffies, 0, this.probePid) +
      line(this.probePid, 'sh', 80, 2, 0, this.probePid)
    );
  }
  readonly provider = {
    // Docker's and QEMU's way; LXD's proxy connects from the workspace's loopback (set per test).
    publishedPortsArrive: 'address',
    agentOnlyPorts: [2222],
    inspect: async () => ({
      publishedPorts: { '22': 41022, '2222': 41222, '8080': 41080 },
      name: 'ws',
      providerId: 'id',
      state: this.state,
      image: 'i',
      labels: {},
      startedAt: this.startedAt,
    }),
    exec: async () => {
      if (this.failProbe) throw new Error('exec failed');
      return {
        exitCode: 0,
        stderr: '',
        stdout:
          `${LISTEN_SSH}\n${this.session ? SSH_SESSION : ''}\n@@cpu\nusage_usec ${this.cpuUsec}\n` +
          (this.vm ? `@@stat cpu  ${this.machineJiffies} 0 0 99999 7 0 0 0 0 0\n` : '') +
          `@@sched ${++this.probePid} ${(this.clock() / 1000).toFixed(2)}\n` +
          (this.vm
            ? this.vmLines()
            : `1 1 (sshd) S 0 1 1 0 -1 0 @@ 1000 20 3\n` +
              `40 40 (sh) R 1 40 40 0 -1 0 @@ ${this.runnableNs} 0 9\n` +
              // The probe's own shell waited long for a CPU; it is not the workspace's work.
              `${this.probePid} ${this.probePid} (sh) R 0 ${this.probePid} 0 -1 0 @@ 1000000 990000000 2\n`),
      };
    },
    nodeUsage: async () =>
      this.node && {
        atMs: this.clock(),
        cpuUsec: this.node.cpuUsec,
        runnableNs: new Map([[7, this.node.runnableNs]]),
        emulated: this.node.emulated === true,
      },
  } as unknown as WorkspaceProvider;
}

describe('the idle watch stops a workspace nobody uses, decided on the node', () => {
  let now: number;
  let box: Box;
  let stopped: string[];
  let watch: IdleWatch;
  /** The node's own sockets, as the agent's /proc/self/net/tcp shows them. */
  let nodeSockets: TcpSocket[];
  const TIMEOUT = 60_000;
  const accepted = (localPort: number): TcpSocket => ({
    localAddress: '127.0.0.1',
    localPort,
    remoteAddress: '127.0.0.1',
    remotePort: 50_000,
    state: 1,
  });

  beforeEach(() => {
    now = 1_000_000;
    box = new Box(() => now);
    stopped = [];
    nodeSockets = [];
    watch = new IdleWatch({
      nodeSockets: async () => nodeSockets,
      logger: nullLogger,
      candidates: () =>
        box.state === 'running'
          ? [{ name: 'ws', idleTimeoutMs: TIMEOUT, provider: box.provider, providerId: 'id' }]
          : [],
      stop: async (name) => {
        stopped.push(name);
        box.state = 'stopped';
      },
      now: () => now,
    });
  });

  /** Ticks every second of `ms`, doing `each` before each tick. */
  async function run(ms: number, each: () => void = () => undefined): Promise<void> {
    for (let t = 0; t < ms; t += 1000) {
      each();
      await watch.tick();
      now += 1000;
    }
  }

  it('looks every sixth of the timeout, at most every 5 s and at least every 30 s', () => {
    assert.deepEqual([lookIntervalMs(3000), lookIntervalMs(60_000), lookIntervalMs(3_600_000)], [5000, 10_000, 30_000]);
  });

  it('stops an idle workspace once, after its timeout and not before', async () => {
    await run(TIMEOUT - 1000);
    assert.deepEqual(stopped, []);
    await run(20_000);
    assert.deepEqual(stopped, ['ws']);
  });

  it('keeps a workspace with an SSH session (or forwarded connection) running, and counts from when it ended', async () => {
    box.session = true;
    await run(3 * TIMEOUT);
    assert.deepEqual(stopped, []);
    box.session = false;
    await run(TIMEOUT - 11_000);
    assert.deepEqual(stopped, [], 'the whole timeout runs again from the last busy look');
    await run(30_000);
    assert.deepEqual(stopped, ['ws']);
  });

  it('keeps a workspace busy on the CPU running, but not one using a little', async () => {
    await run(3 * TIMEOUT, () => (box.cpuUsec += 500_000)); // half a CPU
    assert.deepEqual(stopped, []);
    await run(2 * TIMEOUT, () => (box.cpuUsec += 20_000)); // 2 % of a CPU: health checks, a file watcher
    assert.deepEqual(stopped, ['ws']);
  });

  it('keeps a workspace with a CPU-bound thread running, though a loaded node gives it little CPU', async () => {
    // 5 % of a CPU used, runnable 97 % of the time (running or waiting for its turn): a busy loop.
    await run(3 * TIMEOUT, () => ((box.cpuUsec += 50_000), (box.runnableNs += 0.97e9)));
    assert.deepEqual(stopped, []);
    // A 50 ms poller on a very loaded node: 2 % used, runnable 85 % (it waits at each wake-up), yet it sleeps.
    await run(2 * TIMEOUT, () => ((box.cpuUsec += 20_000), (box.runnableNs += 0.85e9)));
    assert.deepEqual(stopped, ['ws']);
  });

  it("in a VM (probed over SSH), the agent's own checks do not keep it running; its processes' CPU does", async () => {
    box.vm = true;
    // The guest's whole CPU counter climbs by 90 % of a CPU (health checks under TCG on a loaded
    // node), each look finds a check that has used 3 s; the service sleeps.
    await run(TIMEOUT + 20_000, () => ((box.cpuUsec += 900_000), (box.checkJiffies = 300)));
    assert.deepEqual(stopped, ['ws']);
    box.state = 'running';
    box.startedAt = new Date(now).toISOString();
    stopped = [];
    // The service uses 30 % of a CPU between looks: busy.
    await run(3 * TIMEOUT, () => (box.serviceJiffies += 30));
    assert.deepEqual(stopped, []);
  });

  it('on a loaded node, a VM whose guest charges the waits for its CPU to its services stops: the node bounds what the guest says', async () => {
    box.vm = true;
    box.node = { cpuUsec: 0, runnableNs: 0 };
    // The guest says its service used 95 % of a CPU and wanted it all along (its whole count 100 %);
    // the node gave the VM 3 % of a CPU and its vCPU thread was runnable a fifth of the time.
    const waited = () => {
      box.serviceJiffies += 95;
      box.machineJiffies += 100;
      if (!box.node) return;
      box.node.cpuUsec += 30_000;
      box.node.runnableNs += 0.2e9;
    };
    await run(TIMEOUT + 20_000, waited);
    assert.deepEqual(stopped, ['ws']);
    box.state = 'running';
    box.startedAt = new Date(now).toISOString();
    stopped = [];
    // Really busy: the node gives the VM 30 % (all it can on a loaded node), its vCPU thread wants a CPU all along.
    await run(3 * TIMEOUT, () => {
      box.serviceJiffies += 95;
      box.machineJiffies += 100;
      box.node!.cpuUsec += 300_000;
      box.node!.runnableNs += 1e9;
    });
    assert.deepEqual(stopped, []);
    // Without the node's figures (its process unreadable), the guest's word stands: busy.
    box.node = undefined;
    await run(3 * TIMEOUT, waited);
    assert.deepEqual(stopped, []);
  });

  it('a VM whose CPU is emulated (TCG) gets three times the threshold: its services answering health checks take that much longer', async () => {
    box.vm = true;
    box.node = { cpuUsec: 0, runnableNs: 0 };
    // A fifth of a CPU, all of it given by the node: busy for a VM with KVM…
    const checksAnswered = () => {
      box.serviceJiffies += 20;
      box.machineJiffies += 25;
      box.node!.cpuUsec += 250_000;
      box.node!.runnableNs += 0.25e9;
    };
    await run(3 * TIMEOUT, checksAnswered);
    assert.deepEqual(stopped, []);
    // …idle for one under TCG, but not at 40 %.
    box.node.emulated = true;
    await run(
      3 * TIMEOUT,
      () => ((box.serviceJiffies += 40), (box.machineJiffies += 45), (box.node!.cpuUsec += 450_000)),
    );
    assert.deepEqual(stopped, []);
    await run(TIMEOUT + 20_000, checksAnswered);
    assert.deepEqual(stopped, ['ws']);
  });

  it('a probe that fails is not idleness: the count starts again when it works', async () => {
    await run(TIMEOUT - 20_000);
    box.failProbe = true;
    await run(2 * TIMEOUT);
    assert.deepEqual(stopped, []);
    box.failProbe = false;
    await run(TIMEOUT - 11_000);
    assert.deepEqual(stopped, []);
    await run(30_000);
    assert.deepEqual(stopped, ['ws']);
  });

  it('a workspace started again (a connection woke it) gets a whole timeout', async () => {
    await run(TIMEOUT - 11_000);
    box.startedAt = new Date(now).toISOString();
    await run(TIMEOUT - 11_000);
    assert.deepEqual(stopped, []);
    await run(30_000);
    assert.deepEqual(stopped, ['ws']);
  });

  it("where published connections arrive from the workspace's loopback (LXD), the node side shows the user's; the agent's own port is not one", async () => {
    (box.provider as { publishedPortsArrive: string }).publishedPortsArrive = 'loopback';
    // Inside, an LXD proxy's connection comes from 127.0.0.1 like one between the workspace's own processes.
    nodeSockets = [accepted(41022)];
    await run(3 * TIMEOUT);
    assert.deepEqual(stopped, [], 'an SSH session through the proxy keeps it running');
    // The client's end of the same connection (remote port = the node port) and the agent's own port.
    nodeSockets = [{ ...accepted(50_000), remotePort: 41080 }, accepted(41222)];
    await run(TIMEOUT + 20_000);
    assert.deepEqual(stopped, ['ws']);
  });

  it('where published connections arrive at its own address (Docker, QEMU), the node side is not read', async () => {
    nodeSockets = [accepted(41022)];
    await run(TIMEOUT + 20_000);
    assert.deepEqual(stopped, ['ws']);
  });
});
