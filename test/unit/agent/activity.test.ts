import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  listeningPorts,
  outsideConnections,
  parseActivity,
  parseCpuUsec,
  parseProcNetTcp,
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
});
