// The test-node infrastructure itself: concurrent runs get separate networks, and what a killed
// run left behind is removed by the next one.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { acquireK, cleanupK, lockPath, names, runDir, type LockInfo } from '../infra/netLock';
import { createTestNodes } from '../infra/nodes';
import { pidAlive, requireCommands, requireRoot, run } from '../infra/sys';

const linkExists = (name: string) => run(['ip', 'link', 'show', name], { allowFail: true }).status === 0;
const netnsExists = (name: string) =>
  run(['ip', 'netns', 'list'])
    .stdout.split('\n')
    .some((l) => l.split(' ')[0] === name);
const userExists = (name: string) => run(['id', '-u', name], { allowFail: true }).status === 0;

describe('test nodes: isolation between concurrent runs and cleanup after a dead one', function () {
  before(function () {
    requireRoot(this, 'the test-node infrastructure suite');
    requireCommands(this, 'the test-node infrastructure suite', ['sshd', 'ip', 'useradd']);
  });

  it('two runs at once get separate indexes, bridges, namespaces and users', async function () {
    this.timeout(60_000);
    const [a, b] = await Promise.all([
      createTestNodes({ count: 2, label: 'iso-a' }),
      createTestNodes({ count: 2, label: 'iso-b' }),
    ]);
    try {
      assert.notEqual(a.k, b.k);
      assert.notEqual(a.bridge, b.bridge);
      const all = [...a.nodes, ...b.nodes];
      assert.equal(new Set(all.map((n) => n.netns)).size, 4);
      assert.equal(new Set(all.map((n) => n.user)).size, 4);
      assert.equal(new Set(all.map((n) => n.host)).size, 4);
      for (const n of all) assert.ok(pidAlive(n.sshdPid));
      // Each node is its own namespace: node 1 of run A sees its own address only.
      assert.match(
        a.exec(0, ['ip', '-br', 'addr', 'show', 'eth0']).stdout,
        new RegExp(a.nodes[0]!.host.replace(/\./g, '\\.')),
      );
      assert.equal(a.exec(0, ['id', '-un'], { asUser: true }).stdout.trim(), a.nodes[0]!.user);
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
    // Once destroyed, a K is free: a file in another worker may take it (and its names) at once.
    // Its lock file is then back, and those names are that run's, not leftovers of ours.
    for (const run of [a, b]) {
      const retaken = existsSync(lockPath(run.k));
      for (const n of run.nodes) {
        assert.equal(pidAlive(n.sshdPid), false);
        if (retaken) continue;
        assert.equal(netnsExists(n.netns), false);
        assert.equal(userExists(n.user), false);
      }
      if (!retaken) assert.equal(linkExists(run.bridge), false);
    }
  });

  it("removes a dead run's namespaces, links, users, processes and files", async function () {
    this.timeout(60_000);
    // Take a K the proper way and fill it like a run that was killed -9 mid-test. The lock file
    // stays ours (live): a stale one would let a run in another worker reclaim this K, and then
    // this test's cleanup would remove that run's nodes.
    const k = acquireK('dead-run');
    const n = names(k);
    const deadPid = spawnSync('true').pid!;
    const stale: LockInfo = { pid: deadPid, label: 'dead-run', created: new Date().toISOString(), sshdPids: [] };
    try {
      mkdirSync(runDir(k), { recursive: true });
      run(['ip', 'link', 'add', n.bridge, 'type', 'bridge']);
      run(['ip', 'netns', 'add', n.netns(1)]);
      run(['ip', 'link', 'add', n.veth(1), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.netns(1)]);
      run(['useradd', '-m', '-d', `/home/${n.user(1)}`, '-s', '/bin/sh', n.user(1)]);
      const leftover = spawn('ip', ['netns', 'exec', n.netns(1), 'runuser', '-u', n.user(1), '--', 'sleep', '300'], {
        stdio: 'ignore',
      });
      leftover.on('error', () => undefined);
      await new Promise((r) => setTimeout(r, 300));
      const sleeper = Number(
        run(['ip', 'netns', 'pids', n.netns(1)])
          .stdout.trim()
          .split('\n')[0],
      );
      assert.ok(sleeper > 0 && pidAlive(sleeper));

      cleanupK(k, stale);
      assert.equal(netnsExists(n.netns(1)), false);
      assert.equal(linkExists(n.bridge), false);
      assert.equal(linkExists(n.veth(1)), false);
      assert.equal(userExists(n.user(1)), false);
      assert.equal(existsSync(`/home/${n.user(1)}`), false);
      assert.equal(existsSync(runDir(k)), false);
      assert.equal(pidAlive(sleeper), false);
    } finally {
      cleanupK(k, stale); // also when an assertion failed half-way
      rmSync(lockPath(k), { force: true });
    }
  });
});
