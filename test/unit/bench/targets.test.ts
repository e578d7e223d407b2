import assert from 'node:assert/strict';
import { result, verdict } from '../../bench/harness';
import { nodesShareOurCpus, statusColdResult } from '../../bench/nodes';

describe('benchmark targets', () => {
  it('judges a figure against its target, and a reported-only figure not at all', () => {
    assert.equal(verdict(result('a', 2, 'ms', 'b', 1, 3)), '✔');
    assert.equal(verdict(result('a', 4, 'ms', 'b', 1, 3)), '✖');
    const reported = result('a', 40, 'ms', 'b', 1, null, 'no target for the tail');
    assert.equal(verdict(reported), '—');
    assert.equal(reported.note, 'no target for the tail');
  });

  it('holds the cold status of 20 nodes to 1.5× only where the nodes have CPUs of their own', () => {
    const shared = statusColdResult(330, 180, true, 'cpu: coordinator 120 ms');
    assert.equal(shared.target, null);
    assert.match(shared.note ?? '', /share this machine's CPUs.*coordinator 120 ms/);
    const own = statusColdResult(330, 180, false, 'cpu: coordinator 120 ms');
    assert.equal(own.target, 1.5);
    assert.equal(verdict(own), '✖');
  });

  it("finds that nodes share this machine's CPUs when their sshd runs here", () => {
    assert.equal(nodesShareOurCpus([{ sshdPid: process.pid }]), true);
    assert.equal(nodesShareOurCpus([{ sshdPid: 0 }]), false);
    assert.equal(nodesShareOurCpus([{ sshdPid: 2 ** 22 + 1 }]), false); // above pid_max: never a process
  });
});
