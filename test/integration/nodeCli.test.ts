import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateNodesText } from '../../coordinator/config/nodes';
import type { AddNodeResult, NodeStatus, NodeSummary, TestNodeResult } from '../../coordinator/protocol';
import { createTestNodes, type TestNodes } from '../infra/nodes';
import { requireCommands, requireRoot } from '../infra/sys';
import { createCliHome, NATIVE_CIPHERS, REPO, SHIPPED_CIPHERS, waitUntil, type CliHome } from './coordinatorHarness';

describe('vendetta node … against five real SSH nodes', function () {
  let net: TestNodes;
  let h: CliHome;

  before(async function () {
    this.timeout(120_000);
    requireRoot(this, 'the node CLI suite');
    requireCommands(this, 'the node CLI suite', ['sshd', 'ssh', 'ssh-keygen', 'ip', 'useradd']);
    h = createCliHome();
    net = await createTestNodes({ count: 5, label: 'clin' });
  });
  after(async function () {
    this.timeout(60_000);
    await h?.cleanup();
    await net?.destroy();
  });

  const node = (i: number) => net.nodes[i]!;
  const addArgs = (i: number, ...extra: string[]) => [
    'node',
    'add',
    node(i).name,
    '--host',
    node(i).host,
    '--user',
    node(i).user,
    '--identity',
    node(i).identity,
    ...extra,
  ];
  const list = () => h.json<NodeSummary[]>(['node', 'list']);
  const byName = (nodes: NodeSummary[], name: string) => nodes.find((n) => n.name === name);
  const registryNames = () => {
    const text = readFileSync(h.nodesFile, 'utf8');
    const { nodes, diagnostics } = validateNodesText(text, h.nodesFile);
    assert.deepEqual(
      diagnostics.filter((d) => d.severity === 'error'),
      [],
      'nodes.yaml validates',
    );
    return nodes!.nodes.map((n) => n.name);
  };

  it('refuses an unconfirmed host key without a terminal, naming both flags, and writes nothing', async () => {
    const r = await h.run(addArgs(0));
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `error: The host key of ${node(0).host}:22 is not confirmed: ${node(0).hostKeyFingerprint.replace(/[+]/g, '\\+')}`,
      ),
    );
    assert.match(r.stderr, /hint: .*--host-key-fingerprint SHA256:\S+.*--accept-new-host-key/);
    assert.equal(existsSync(h.nodesFile), false);
    assert.equal(existsSync(`${h.home}/known_hosts`), false);
  });

  it('adds five nodes at once (accept-new or a matching fingerprint), printing timed steps', async function () {
    this.timeout(120_000);
    const results = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        i < 3
          ? h.run(addArgs(i, '--accept-new-host-key'))
          : h.run(addArgs(i, '--host-key-fingerprint', node(i).hostKeyFingerprint)),
      ),
    );
    results.forEach((r, i) => {
      assert.equal(r.code, 0, `${node(i).name}: ${r.stderr}`);
      for (let step = 1; step <= 4; step++)
        assert.match(r.stderr, new RegExp(`^\\[${step}/4\\] .+… \\d+\\.\\d s$`, 'm'));
      assert.match(r.stderr, /^\[3\/4\] Installing and starting the agent… \d+\.\d s$/m);
      assert.match(
        r.stdout,
        new RegExp(
          `^added ${node(i).name} \\(${node(i).user}@${node(i).host.replace(/\./g, '\\.')}:22\\), host key SHA256:\\S+, agent \\S+ online$`,
          'm',
        ),
      );
    });
    console.log(`      node add (upload + start agent): ${results.map((r) => r.ms).join(', ')} ms`);
    assert.deepEqual(registryNames().sort(), net.nodes.map((n) => n.name).sort());
    const yaml = readFileSync(h.nodesFile, 'utf8');
    for (const n of net.nodes) assert.ok(yaml.includes(n.hostKeyFingerprint), `${n.name}'s host key is recorded`);
    assert.equal(readFileSync(`${h.home}/known_hosts`, 'utf8').trim().split('\n').length, 5);
    const json = await h.run(['node', 'add', node(0).name, '--host', node(0).host, '--accept-new-host-key', '--json']);
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'NODE_EXISTS');
  });

  it('lists all six nodes online from what it knows, without asking them', async () => {
    const nodes = await list();
    assert.equal(nodes[0]?.name, 'local');
    assert.deepEqual(
      nodes
        .slice(1)
        .map((n) => n.name)
        .sort(),
      net.nodes.map((n) => n.name).sort(),
    );
    for (const n of net.nodes) {
      const s = byName(nodes, n.name);
      assert.equal(s?.status, 'online', `${n.name}: ${JSON.stringify(s?.error)}`);
      assert.equal(s?.transport, 'ssh');
      assert.equal(s?.user, n.user);
      assert.ok(s?.agentVersion && s.providers);
    }
    const human = await h.run(['node', 'list']);
    assert.match(
      human.stdout,
      new RegExp(
        `^${node(0).name}\\s+ssh\\s+${node(0).user}@${node(0).host.replace(/\./g, '\\.')}:22\\s+online\\s`,
        'm',
      ),
    );
  });

  it('asks every node for status in parallel', async () => {
    const t0 = Date.now();
    const all = await h.json<NodeStatus[]>(['node', 'status']);
    const ms = Date.now() - t0;
    assert.equal(all.length, 6);
    for (const s of all) {
      assert.equal(s.status, 'online', `${s.name}: ${JSON.stringify(s.error)}`);
      assert.ok(s.system && s.system.cpus > 0 && s.latencyMs !== null);
    }
    console.log(`      node status of 6 nodes (warm links, process start included): ${ms} ms`);
  });

  it("runs its SSH links on ssh2's native ciphers, which the build ships beside the bundle", () => {
    // npm builds the add-on for this Node.js when a compiler is there (these machines have one).
    const built = existsSync(join(REPO, NATIVE_CIPHERS));
    const shipped = join(REPO, 'dist', SHIPPED_CIPHERS);
    assert.equal(existsSync(shipped), built, `dist/${SHIPPED_CIPHERS} is there exactly when npm built it`);
    if (built) assert.deepEqual(readFileSync(shipped), readFileSync(join(REPO, NATIVE_CIPHERS)));
    const pid = h.coordinatorPid();
    assert.ok(pid, 'a coordinator runs');
    const loaded = readFileSync(`/proc/${pid}/maps`, 'utf8').includes('sshcrypto.node');
    assert.equal(loaded, built, 'the coordinator, connected to five SSH nodes, loaded the native ciphers');
  });

  it('diagnoses a node step by step, one ✔/✖ line each, with a hint for each failure', async () => {
    const r = await h.run(['node', 'test', node(0).name, '--json']);
    const result = JSON.parse(r.stdout) as TestNodeResult;
    const names = result.steps.map((s) => s.name);
    for (const re of [/^DNS \+ TCP/, /^host key/, /^SSH auth/, /^Node\.js runtime/, /^agent/, /^docker/]) {
      assert.ok(
        names.some((n) => re.test(n)),
        `a step ${re}`,
      );
    }
    assert.ok(
      result.steps.slice(0, 5).every((s) => s.ok),
      JSON.stringify(result.steps),
    );
    for (const s of result.steps) if (!s.ok) assert.ok(s.hint, `${s.name} has a hint`);
    assert.equal(r.code, result.ok ? 0 : 1);
    const human = await h.run(['node', 'test', node(0).name]);
    assert.match(human.stdout, /^✔ DNS \+ TCP/m);
    assert.match(human.stdout, /^✔ SSH auth as /m);
    assert.match(human.stdout, new RegExp(`^${node(0).name}: (ok|FAILED), \\d+ of \\d+ checks passed`, 'm'));
  });

  it('marks a node whose link is cut offline within the keep-alive window, keeps the others online, and recovers', async function () {
    this.timeout(150_000);
    const cut = node(2).name;
    net.cutLink(2);
    try {
      const offlineAfter = await waitUntil(
        async () => byName(await list(), cut)?.status === 'offline',
        30_000,
        `${cut} offline`,
      );
      console.log(`      link cut → ${cut} offline after ${(offlineAfter / 1000).toFixed(1)} s`);
      assert.ok(offlineAfter <= 20_000);
      const nodes = await list();
      assert.equal(byName(nodes, cut)?.error?.code, 'NODE_UNREACHABLE');
      for (const n of net.nodes) if (n.name !== cut) assert.equal(byName(nodes, n.name)?.status, 'online', n.name);
      const t0 = Date.now();
      const status = await h.json<NodeStatus[]>(['node', 'status']);
      console.log(`      node status with one node cut off: ${Date.now() - t0} ms`);
      assert.equal(status.find((s) => s.name === cut)?.status, 'offline');
      assert.equal(status.filter((s) => s.status === 'online').length, 5);
    } finally {
      net.restoreLink(2);
    }
    const back = await waitUntil(
      async () => byName(await list(), cut)?.status === 'online',
      90_000,
      `${cut} back online`,
    );
    console.log(`      link restored → ${cut} online after ${(back / 1000).toFixed(1)} s`);
  });

  it('keeps nodes.yaml valid when the coordinator is killed -9 in the middle of node add', async function () {
    this.timeout(120_000);
    const victim = node(4);
    assert.equal((await h.run(['node', 'remove', victim.name])).code, 0);
    let killed = false;
    const add = h.run(addArgs(4, '--host-key-fingerprint', victim.hostKeyFingerprint), {
      onStderr: (chunk) => {
        // "[2/4] …" is printed as step 3 (installing the agent) begins.
        if (!killed && chunk.includes('[2/4]')) {
          killed = true;
          process.kill(h.coordinatorPid()!, 'SIGKILL');
        }
      },
    });
    const r = await add;
    assert.ok(killed, 'the coordinator was killed during the add');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error: Lost the connection to the coordinator/);
    const names = registryNames();
    assert.ok(!names.includes(victim.name), 'a node whose add did not finish is not registered');
    assert.equal(names.length, 4);
    const again = await h.run(addArgs(4, '--host-key-fingerprint', victim.hostKeyFingerprint));
    assert.equal(again.code, 0, again.stderr);
    assert.ok(registryNames().includes(victim.name));
  });

  it('forgets an add interrupted with Ctrl-C: nothing saved, nothing pinned', async function () {
    this.timeout(120_000);
    const victim = node(4);
    assert.equal((await h.run(['node', 'remove', victim.name])).code, 0);
    const knownHosts = () => readFileSync(`${h.home}/known_hosts`, 'utf8');
    assert.ok(!knownHosts().includes(victim.host));
    let interrupted = false;
    const add = h.run(addArgs(4, '--host-key-fingerprint', victim.hostKeyFingerprint), {
      onStderr: (chunk) => {
        if (!interrupted && chunk.includes('[2/4]')) {
          interrupted = true;
          process.kill(add.pid()!, 'SIGINT');
        }
      },
    });
    await add;
    assert.ok(interrupted);
    await waitUntil(
      () => readFileSync(`${h.home}/logs/coordinator.log`, 'utf8').includes(`Adding ${victim.name} was cancelled`),
      30_000,
      'the coordinator to cancel the add',
    );
    assert.ok(!registryNames().includes(victim.name));
    await waitUntil(() => !knownHosts().includes(victim.host), 5000, 'the pin to be undone');
    assert.equal((await h.run(addArgs(4, '--host-key-fingerprint', victim.hostKeyFingerprint))).code, 0);
  });

  it('refuses a changed host key, showing both fingerprints, until it is re-pinned on purpose', async function () {
    this.timeout(120_000);
    const n = node(3);
    const old = n.hostKeyFingerprint;
    const fresh = await net.changeHostKey(3);
    assert.notEqual(fresh, old);
    const r = await h.run([
      'node',
      'add',
      'other',
      '--host',
      n.host,
      '--user',
      n.user,
      '--identity',
      n.identity,
      '--accept-new-host-key',
      '--json',
    ]);
    assert.equal(r.code, 1);
    const err = (JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } }).error;
    assert.equal(err.code, 'HOST_KEY_MISMATCH');
    assert.ok(err.message.includes(old) && err.message.includes(fresh), err.message);
    assert.match(err.hint, /--replace-host-key/);
    // The pooled link reconnects after the sshd restart and meets the new key too.
    await waitUntil(
      async () => byName(await list(), n.name)?.error?.code === 'HOST_KEY_MISMATCH',
      60_000,
      `${n.name} to refuse the new key`,
    );
    const pinnedErr = byName(await list(), n.name)?.error;
    assert.ok(pinnedErr?.message.includes(old) && pinnedErr.message.includes(fresh), pinnedErr?.message);
    const repin = await h.run(addArgs(3, '--replace-host-key', '--host-key-fingerprint', fresh, '--json'));
    assert.equal(repin.code, 0, repin.stderr);
    assert.equal((JSON.parse(repin.stdout) as AddNodeResult).hostKeyFingerprint, fresh);
    await waitUntil(
      async () => byName(await list(), n.name)?.status === 'online',
      30_000,
      `${n.name} online with the new key`,
    );
  });

  it('removes all five nodes, purging the agent from some', async function () {
    this.timeout(120_000);
    const results = await Promise.all(
      net.nodes.map((n, i) => h.run(['node', 'remove', n.name, ...(i < 2 ? ['--purge', '--yes'] : [])])),
    );
    results.forEach((r, i) => {
      assert.equal(r.code, 0, `${node(i).name}: ${r.stderr}`);
      assert.equal(r.stdout, i < 2 ? `removed ${node(i).name} and purged its agent\n` : `removed ${node(i).name}\n`);
    });
    assert.deepEqual(
      (await list()).map((n) => n.name),
      ['local'],
    );
    assert.deepEqual(registryNames(), []);
    assert.equal(readFileSync(`${h.home}/known_hosts`, 'utf8').trim(), '');
    assert.equal(existsSync(`${node(0).home}/.vendetta-agent`), false, 'purged');
    assert.equal(existsSync(`${node(2).home}/.vendetta-agent`), true, 'kept without --purge');
  });

  it('asks on a terminal, showing the fingerprint, and adds only on yes', async function () {
    this.timeout(60_000);
    const no = await h.runOnTerminal(addArgs(0), 'n\n');
    assert.equal(no.code, 1, no.stdout);
    assert.ok(no.stdout.includes(node(0).hostKeyFingerprint), no.stdout);
    assert.match(no.stdout, /Trust this key and add clin-1\? \[y\/N\]/);
    assert.match(no.stdout, /error: Not added: the host key of clin-1 was not confirmed/);
    assert.deepEqual(registryNames(), []);
    const yes = await h.runOnTerminal(addArgs(0), 'y\n');
    assert.equal(yes.code, 0, yes.stdout);
    assert.match(yes.stdout, /added clin-1 /);
    assert.deepEqual(registryNames(), ['clin-1']);
    assert.equal((await h.run(['node', 'remove', 'clin-1', '--purge', '--yes'])).code, 0);
  });
});
