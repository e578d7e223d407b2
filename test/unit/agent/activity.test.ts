import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  listeningPorts,
  outsideConnections,
  parseActivity,
  parseCpuUsec,
  parseProcNetTcp,
  busiestThreadShare,
  parseThreadTimes,
  processCpuShare,
} from '../../../agent/workspaces/activity';

const PROBE = readFileSync(join(__dirname, '..', '..', 'fixtures', 'activity', 'probe.txt'), 'utf8');

describe('what a workspace is doing, read from its /proc/net/tcp{,6} and cpu.stat', () => {
  it('reads IPv4, IPv6 and v4-mapped sockets with their addresses, ports and states', () => {
    const s = parseProcNetTcp(PROBE);
    assert.equal(s.length, 8, 'the two header lines are skipped');
    assert.deepEqual(s[0], {
      localAddress: '0.0.0.0',
      localPort: 22,
      remoteAddress: '0.0.0.0',
      remotePort: 0,
      state: 10,
    });
    assert.deepEqual(s[4], {
      localAddress: '192.168.0.2',
      localPort: 22,
      remoteAddress: '192.168.0.1',
      remotePort: 0xd2f0,
      state: 1,
    });
    assert.deepEqual(
      [s[5]!.localAddress, s[6]!.localAddress, s[6]!.remoteAddress, s[7]!.remoteAddress],
      ['::', '::1', '::1', '192.168.0.1'],
    );
  });

  it('lists the ports something listens on, and counts only connections that come from outside', () => {
    const a = parseActivity(PROBE);
    assert.deepEqual(listeningPorts(a.sockets), [22, 7070, 8080]);
    // The SSH session from 192.168.0.1 counts; db<->api over loopback and the ::1 client do not,
    // nor does a connection in TIME_WAIT (06).
    assert.equal(outsideConnections(a.sockets), 1);
    // A port only the agent connects to (a VM's control SSH; here 22 stands in): not a user's session.
    assert.equal(outsideConnections(a.sockets, [22]), 0);
    assert.equal(a.cpuUsec, 8123456);
  });

  it('reads CPU time from the cgroup (v2 or v1), else sums the processes, else says it does not know', () => {
    assert.equal(parseCpuUsec('usage_usec 42\nuser_usec 40\n'), 42);
    assert.equal(parseCpuUsec('cpuacct_usage_ns 5000999\n'), 5000);
    // utime+stime+cutime+cstime: (10+5+0+0) + (100+20+30+40) jiffies; comm may hold ") (" and spaces.
    const procs =
      '@@procs\n1 (sshd) S 0 1 1 0 -1 4194560 100 0 0 0 10 5 0 0 20 0 1 0 50 1000 200\n' +
      '7 (we (ird) name) R 1 7 7 0 -1 4194560 100 0 0 0 100 20 30 40 20 0 1 0 50 1000 200\nbroken line\n';
    assert.equal(parseCpuUsec(procs), 205 * 10_000);
    assert.equal(
      parseCpuUsec('cpu  100 0 50 1000 30 5 5 0 0 0\n'),
      undefined,
      "the node's /proc/stat is never taken for the workspace's",
    );
    assert.equal(parseCpuUsec(''), undefined);
    assert.equal(parseActivity('garbage\nmore: lines here\n').cpuUsec, undefined);
    assert.deepEqual(parseActivity('garbage\nmore: lines here\n').sockets, []);
  });

  it("reads the kernel's whole busy count (user, nice, system, irq, softirq, steal; not idle or I/O wait) apart from the workspace's", () => {
    const out = parseActivity('@@cpu\nusage_usec 42\n@@stat cpu  100 2 50 1000 30 5 6 7 0 0\n@@sched 9 1.00\n');
    assert.equal(out.machineBusyUsec, 170 * 10_000);
    assert.equal(out.cpuUsec, 42, "the workspace's own figure is still the cgroup's");
    assert.equal(parseActivity('@@cpu\nusage_usec 1\n@@stat cpu 1 2\n').machineBusyUsec, undefined);
  });

  it('reads how long each thread was runnable, without the probe, its ancestors and kernel threads', () => {
    const text =
      '@@sched 90 1234.56\n' +
      '1 1 (sshd) S 0 1 1 0 -1 @@ 5000 100 7\n' +
      '2 2 (kthreadd) S 0 0 0 0 -1 @@ 10 10 1\n' +
      '3 3 (kworker/0:0) I 2 0 0 0 -1 @@ 900 900 1\n' +
      '40 40 (we (ird) @@ name) R 1 40 40 0 -1 @@ 700 300 9\n' +
      '40 41 (worker) R 1 40 40 0 -1 @@ 70 30 9\n' +
      '80 80 (sshd-session) S 1 80 80 0 -1 @@ 50 9000 2\n' +
      '90 90 (sh) R 80 90 90 0 -1 @@ 20 80000 1\n' +
      'broken @@ line\n';
    const t = parseThreadTimes(text)!;
    assert.equal(t.atMs, 1_234_560);
    assert.deepEqual(
      [...t.runnableNs],
      [
        [40, 1000],
        [41, 100],
      ],
      'sshd is an ancestor of the probe here (an exec over SSH)',
    );
    const docker = '@@sched 90 5\n1 1 (sshd) S 0 1 1 0 -1 @@ 5000 100 7\n90 90 (sh) R 0 90 90 0 -1 @@ 1 2 1\n';
    assert.deepEqual([...parseThreadTimes(docker)!.runnableNs], [[1, 5100]]);
    assert.equal(parseThreadTimes('no marker\n'), undefined);
    assert.equal(parseThreadTimes('@@sched 5 1.00\n'), undefined, 'no schedstat readable');
    const probe = parseActivity(`${PROBE}@@sched 9 7.5\n4 4 (node) R 1 4 4 0 -1 @@ 10 20 3\n`);
    assert.equal(probe.cpuUsec, 8123456, 'the CPU time of the cgroup is read as before');
    assert.deepEqual([...probe.threads!.runnableNs], [[4, 30]]);
  });

  it('finds the thread runnable the largest share of the window: since the last read, a new one since its start', () => {
    const before = {
      atMs: 10_000,
      processUsec: new Map<string, number>(),
      viaSession: false,
      runnableNs: new Map([
        [4, 1e9],
        [5, 5e9],
      ]),
    };
    const at = (ms: number, m: Array<[number, number]>) => ({
      atMs: ms,
      runnableNs: new Map(m),
      processUsec: new Map<string, number>(),
      viaSession: false,
    });
    // 2 s window: thread 4 runnable 1.9 s of it (a CPU-bound loop waiting for its turn).
    assert.equal(
      busiestThreadShare(
        before,
        at(12_000, [
          [4, 2.9e9],
          [5, 5.2e9],
        ]),
      ),
      0.95,
    );
    // A poller: runnable 0.4 s of 2 s; a new thread that started half-way and never slept: 1 s.
    assert.equal(
      busiestThreadShare(
        before,
        at(12_000, [
          [5, 5.4e9],
          [8, 1e9],
        ]),
      ),
      0.5,
    );
    assert.equal(busiestThreadShare(before, at(12_000, [[5, 1e8]])), 0.05, 'a reused tid counts from its start');
    assert.equal(busiestThreadShare(before, at(10_000, [[4, 9e9]])), 0, 'no window, no share');
    assert.equal(
      busiestThreadShare(
        before,
        at(12_000, [
          [5, 5.4e9],
          [8, 1e9],
        ]),
        false,
      ),
      0.2,
      'new threads left out',
    );
  });

  /** A whole thread line: utime, cutime (jiffies) and the process's start time where the kernel puts them. */
  const line = (pid: number, tid: number, comm: string, ppid: number, utime: number, cutime: number, start: number) =>
    `${pid} ${tid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 0 0 0 0 0 ${utime} 5 ${cutime} 1 20 0 1 0 ${start} 0 @@ 10 10 1\n`;

  it("sums each process's CPU (its threads', its reaped children's once) without the probe, its ancestors and the agent's relay; tells a probe over a session inside", () => {
    const vm = parseThreadTimes(
      '@@sched 90 100.00\n' +
        line(1, 1, 'systemd', 0, 100, 900, 1) +
        line(2, 2, 'kthreadd', 0, 1, 0, 1) +
        line(3, 3, 'kworker/0:0', 2, 50, 0, 2) +
        line(40, 40, 'make', 1, 10, 200, 70) +
        line(41, 41, 'node', 1, 30, 7, 71) +
        line(41, 42, 'node', 1, 20, 7, 71) +
        line(80, 80, 'sshd-session', 1, 5, 4000, 60) +
        line(85, 85, 'vendetta-relay', 80, 9000, 0, 61) +
        line(85, 86, 'node', 80, 900, 0, 61) +
        line(90, 90, 'sh', 80, 1, 0, 99),
    )!;
    // Jiffies of 10 ms: make 10+5 own + 200+1 reaped; node's two threads 30+5 and 20+5, its 7+1 once.
    assert.deepEqual(
      [...vm.processUsec],
      [
        ['40:70', 2_160_000],
        ['41:71', 680_000],
      ],
    );
    assert.equal(vm.viaSession, true, "the probe's shell is a child of the guest's sshd");
    const docker = parseThreadTimes(
      '@@sched 90 5\n' + line(1, 1, 'sshd', 0, 10, 0, 1) + line(90, 90, 'sh', 0, 1, 0, 9),
    )!;
    assert.equal(docker.viaSession, false, 'entered from outside (docker or LXD exec)');
    assert.deepEqual([...docker.processUsec], [['1:1', 160_000]]);
    const short = parseThreadTimes('@@sched 90 5\n1 1 (sshd) S 0 1 1 0 -1 @@ 5000 100 7\n')!;
    assert.deepEqual([...short.processUsec], [], 'a line without the CPU fields adds none');
  });

  it("measures the processes' CPU over the window: since the last read, a new one since its start unless left out", () => {
    const times = (atMs: number, m: Array<[string, number]>) => ({
      atMs,
      runnableNs: new Map<number, number>(),
      processUsec: new Map(m),
      viaSession: true,
    });
    const before = times(10_000, [
      ['40:70', 1_000_000],
      ['41:71', 5_000_000],
    ]);
    const now = times(12_000, [
      ['40:70', 1_500_000],
      ['41:71', 5_100_000],
      ['41:95', 300_000],
      ['77:96', 200_000],
    ]);
    // 2 s: make 0.5 s, node 0.1 s; a reused pid 41 and a new check 0.5 s more.
    assert.equal(processCpuShare(before, now), 0.55);
    assert.equal(processCpuShare(before, now, false), 0.3, 'only the processes seen at both reads');
    assert.equal(processCpuShare(before, times(12_000, [['40:70', 900_000]])), 0, 'never below nothing');
    assert.equal(processCpuShare(before, times(10_000, [])), 0, 'no window');
  });
});
