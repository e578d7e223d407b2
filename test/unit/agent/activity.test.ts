import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  listeningPorts,
  outsideConnections,
  parseActivity,
  parseCpuUsec,
  parseProcNetTcp,
  parseWantedNs,
  wantedBetween,
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

  it('reads what each process wanted of a CPU, without the probe, its ancestors and kernel threads', () => {
    const text =
      '@@sched 90\n' +
      '1 (sshd) S 0 1 1 0 -1 @@ 5000 100 7\n' +
      '2 (kthreadd) S 0 0 0 0 -1 @@ 10 10 1\n' +
      '3 (kworker/0:0) I 2 0 0 0 -1 @@ 900 900 1\n' +
      '40 (we (ird) @@ name) R 1 40 40 0 -1 @@ 700 300 9\n' +
      '80 (sshd-session) S 1 80 80 0 -1 @@ 50 9000 2\n' +
      '90 (sh) R 80 90 90 0 -1 @@ 20 80000 1\n' +
      'broken @@ line\n';
    assert.deepEqual(
      [...parseWantedNs(text)!],
      [[40, 1000]],
      'sshd is an ancestor of the probe here (an exec over SSH)',
    );
    const docker = '@@sched 90\n1 (sshd) S 0 1 1 0 -1 @@ 5000 100 7\n90 (sh) R 0 90 90 0 -1 @@ 1 2 1\n';
    assert.deepEqual([...parseWantedNs(docker)!], [[1, 5100]]);
    assert.equal(parseWantedNs('no marker\n'), undefined);
    assert.equal(parseWantedNs('@@sched 5\n'), undefined, 'no schedstat readable');
    const probe = parseActivity(`${PROBE}@@sched 9\n4 (node) R 1 4 4 0 -1 @@ 10 20 3\n`);
    assert.equal(probe.cpuUsec, 8123456, 'the CPU time of the cgroup is read as before');
    assert.deepEqual([...probe.wantedNs!], [[4, 30]]);
  });

  it('counts what was wanted between two looks: since the last look, all of a new process, a reused pid anew', () => {
    const before = new Map([
      [4, 1000],
      [5, 5000],
      [6, 7000],
    ]);
    const now = new Map([
      [4, 1500],
      [5, 200],
      [8, 40],
    ]);
    assert.equal(wantedBetween(before, now), 500 + 200 + 40);
  });
});
