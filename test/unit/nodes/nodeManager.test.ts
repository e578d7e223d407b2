import assert from 'node:assert/strict';
import { CancellationTokenSource } from 'vscode-jsonrpc';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VendettaError } from '../../../coordinator/errors';
import { homePaths, type HomePaths } from '../../../coordinator/home';
import { NodeManager } from '../../../coordinator/nodes/nodeManager';
import { NodeRegistry } from '../../../coordinator/nodes/registry';
import type { NodeSummary } from '../../../coordinator/protocol';
import { fakeKey, FakeAgentClient, FakeSsh, nullLog } from './fakes';

describe('node manager', () => {
  let dir: string;
  let paths: HomePaths;
  let registry: NodeRegistry;
  let ssh: FakeSsh;
  let manager: NodeManager;
  let local: FakeAgentClient;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-manager-'));
    paths = homePaths(dir);
    registry = new NodeRegistry(paths, nullLog);
    registry.reload();
    ssh = new FakeSsh();
    ssh.presented.set('10.0.0.1:22', fakeKey('one'));
    ssh.presented.set('10.0.0.2:22', fakeKey('two'));
    local = new FakeAgentClient('local');
    manager = new NodeManager({
      paths,
      log: nullLog,
      registry,
      ssh,
      agentBundle: '/nonexistent/agent.js',
      createLocalClient: () => local,
      statusTimeoutMs: 300,
    });
    manager.start();
  });
  afterEach(async () => {
    await manager.close();
    registry.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const add = (name: string, host: string, extra: Record<string, unknown> = {}, steps: string[] = []) =>
    manager.add({ name, host, port: 22, user: 'dev', ...extra }, (step, total, message) =>
      steps.push(`${step}/${total} ${message}`),
    );

  it('lists the built-in local node, starting its agent only when asked', async () => {
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(local.connects, 0);
    assert.deepEqual(
      manager.list().map((n) => [n.name, n.transport, n.status]),
      [['local', 'local', 'unknown']],
    );
    const [s] = await manager.status('local');
    assert.equal(s?.status, 'online');
    assert.equal(local.connects, 1);
    assert.equal(manager.list()[0]?.status, 'online');
    assert.equal(manager.list()[0]?.providers?.docker.available, true);
  });

  it("gives a node's idleTimeout from nodes.yaml in milliseconds, and none for a node without one", () => {
    writeFileSync(
      paths.nodesFile,
      'nodes:\n  - name: b1\n    host: 10.0.0.1\n    idleTimeout: 45m\n  - name: b2\n    host: 10.0.0.2\n',
    );
    registry.reload();
    assert.deepEqual(
      ['b1', 'b2', 'local', 'nope'].map((n) => manager.idleTimeoutMs(n)),
      [2_700_000, undefined, undefined, undefined],
    );
  });

  it('refuses an unconfirmed host key, with the fingerprint in details, and writes nothing', async () => {
    await assert.rejects(add('b1', '10.0.0.1'), (e: VendettaError) => {
      assert.equal(e.code, 'HOST_KEY_UNCONFIRMED');
      assert.equal(e.details?.fingerprint, fakeKey('one').fingerprint);
      assert.match(e.hint ?? '', /--host-key-fingerprint/);
      assert.match(e.hint ?? '', /--accept-new-host-key/);
      return true;
    });
    assert.equal(existsSync(paths.nodesFile), false);
    assert.equal(ssh.pins.size, 0);
  });

  it('adds a node whose fingerprint matches: pins, installs, saves, reports each step', async () => {
    const steps: string[] = [];
    const result = await add('b1', '10.0.0.1', { hostKeyFingerprint: fakeKey('one').fingerprint }, steps);
    assert.deepEqual(
      steps.map((s) => s.slice(0, 3)),
      ['1/4', '2/4', '3/4', '4/4'],
    );
    assert.equal(result.node.status, 'online');
    assert.equal(result.node.system?.hostname, 'b1');
    assert.equal(result.hostKeyFingerprint, fakeKey('one').fingerprint);
    assert.equal(ssh.pins.get('10.0.0.1:22')?.fingerprint, fakeKey('one').fingerprint);
    assert.match(
      readFileSync(paths.nodesFile, 'utf8'),
      new RegExp(`hostKey: ${fakeKey('one').fingerprint.replace(/[+/]/g, '.')}`),
    );
    assert.deepEqual(
      manager.list().map((n) => [n.name, n.status]),
      [
        ['local', 'unknown'],
        ['b1', 'online'],
      ],
    );
    await assert.rejects(
      add('b1', '10.0.0.1', { acceptNewHostKey: true }),
      (e: VendettaError) => e.code === 'NODE_EXISTS',
    );
  });

  it('decides the host key on the connection that installs the agent, not on one of its own', async () => {
    const steps: string[] = [];
    await add('b1', '10.0.0.1', { acceptNewHostKey: true }, steps);
    assert.equal(ssh.probes, 0);
    assert.equal(ssh.clients.at(-1)?.connects, 1);
    assert.deepEqual(steps, [
      '1/4 Preparing the SSH key…',
      '2/4 Checking the host key of 10.0.0.1:22…',
      '3/4 Installing and starting the agent…',
      '4/4 Saving the node…',
    ]);
    // Without an install, reading the key is all the add connects for.
    await add('b2', '10.0.0.2', { acceptNewHostKey: true, install: false });
    assert.equal(ssh.probes, 1);
    await assert.rejects(
      add('b3', '10.0.0.3', { acceptNewHostKey: true }),
      (e: VendettaError) => e.code === 'NODE_UNREACHABLE' && e.node === 'b3' && /Nothing was saved/.test(e.hint ?? ''),
    );
  });

  it('refuses a fingerprint that does not match, naming both', async () => {
    await assert.rejects(
      add('b1', '10.0.0.1', { hostKeyFingerprint: fakeKey('other').fingerprint }),
      (e: VendettaError) => {
        assert.equal(e.code, 'HOST_KEY_MISMATCH');
        assert.ok(e.message.includes(fakeKey('one').fingerprint) && e.message.includes(fakeKey('other').fingerprint));
        return true;
      },
    );
    assert.equal(existsSync(paths.nodesFile), false);
  });

  it('refuses a changed host key with both fingerprints; --replace-host-key re-pins on purpose', async () => {
    await add('b1', '10.0.0.1', { acceptNewHostKey: true });
    ssh.presented.set('10.0.0.1:22', fakeKey('reinstalled'));
    await assert.rejects(add('b2', '10.0.0.1', { acceptNewHostKey: true }), (e: VendettaError) => {
      assert.equal(e.code, 'HOST_KEY_MISMATCH');
      assert.equal(e.details?.pinnedFingerprint, fakeKey('one').fingerprint);
      assert.equal(e.details?.presentedFingerprint, fakeKey('reinstalled').fingerprint);
      assert.match(e.hint ?? '', /--replace-host-key/);
      return true;
    });
    await assert.rejects(
      add('b1', '10.0.0.1', { replaceHostKey: true }),
      (e: VendettaError) =>
        e.code === 'HOST_KEY_UNCONFIRMED' && e.details?.pinnedFingerprint === fakeKey('one').fingerprint,
    );
    await add('b1', '10.0.0.1', { replaceHostKey: true, hostKeyFingerprint: fakeKey('reinstalled').fingerprint });
    assert.equal(ssh.pins.get('10.0.0.1:22')?.fingerprint, fakeKey('reinstalled').fingerprint);
    assert.equal(registry.list().filter((n) => n.name === 'b1').length, 1);
  });

  it('leaves nodes.yaml and known_hosts as they were when installing fails', async () => {
    ssh.behaviours.set('10.0.0.2', 'auth-fail');
    await add('b1', '10.0.0.1', { acceptNewHostKey: true });
    const before = readFileSync(paths.nodesFile, 'utf8');
    await assert.rejects(
      add('b2', '10.0.0.2', { acceptNewHostKey: true }),
      (e: VendettaError) => e.code === 'AUTH_FAILED' && e.node === 'b2',
    );
    assert.equal(readFileSync(paths.nodesFile, 'utf8'), before);
    assert.equal(ssh.pins.has('10.0.0.2:22'), false, 'the pin made for the failed add is undone');
    assert.equal(ssh.clients.at(-1)?.closed, true);
    assert.deepEqual(
      manager.list().map((n) => n.name),
      ['local', 'b1'],
    );
  });

  it('stops and undoes an add whose client went away before it finished', async () => {
    const source = new CancellationTokenSource();
    const add = manager.add(
      { name: 'b1', host: '10.0.0.1', port: 22, user: 'dev', acceptNewHostKey: true },
      (step) => {
        if (step === 3) source.cancel();
      },
      source.token,
    );
    await assert.rejects(add, (e: VendettaError) => e.code === 'CANCELLED' && /nothing was saved/.test(e.message));
    assert.equal(existsSync(paths.nodesFile), false);
    assert.equal(ssh.pins.size, 0);
    assert.equal(ssh.clients.at(-1)?.closed, true);
    assert.deepEqual(
      manager.list().map((n) => n.name),
      ['local'],
    );
  });

  it('registers without installing when asked (no agent connection)', async () => {
    const steps: string[] = [];
    const r = await add('b1', '10.0.0.1', { acceptNewHostKey: true, install: false }, steps);
    assert.deepEqual(
      steps.map((s) => s.slice(0, 3)),
      ['1/3', '2/3', '3/3'],
    );
    assert.equal(r.node.agentVersion, null);
    assert.equal(ssh.clients.at(-1)?.connects ?? 0, 0);
  });

  it('asks every node in parallel for status; one that hangs is offline after the timeout, others online', async () => {
    await add('b1', '10.0.0.1', { acceptNewHostKey: true });
    await add('b2', '10.0.0.2', { acceptNewHostKey: true });
    const b2 = ssh.clients.find((c) => c.nodeName === 'b2')!;
    b2.drop();
    b2.behaviour = 'hang';
    const t0 = Date.now();
    const status = await manager.status();
    const ms = Date.now() - t0;
    assert.ok(ms < 600, `parallel: ${ms} ms`);
    assert.deepEqual(
      status.map((s) => [s.name, s.status]),
      [
        ['local', 'online'],
        ['b1', 'online'],
        ['b2', 'offline'],
      ],
    );
    assert.equal(status[2]?.error?.code, 'NODE_UNREACHABLE');
    assert.equal(status[1]?.system?.cpus, 2);
    assert.ok((status[1]?.latencyMs ?? -1) >= 0);
  });

  it('notifies listeners when a node goes offline', async () => {
    await add('b1', '10.0.0.1', { acceptNewHostKey: true });
    const seen: NodeSummary[][] = [];
    manager.onDidChange((nodes) => seen.push(nodes));
    ssh.clients.find((c) => c.nodeName === 'b1')!.drop();
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(seen.at(-1)?.find((n) => n.name === 'b1')?.status, 'offline');
    assert.equal(seen.at(-1)?.find((n) => n.name === 'b1')?.error?.code, 'NODE_UNREACHABLE');
  });

  it('removes a node: registry, pin and (with purge) the agent', async () => {
    await add('b1', '10.0.0.1', { acceptNewHostKey: true });
    await manager.remove('b1', true);
    assert.deepEqual(ssh.purged, ['b1']);
    assert.equal(ssh.pins.size, 0);
    assert.deepEqual(
      registry.list().map((n) => n.name),
      ['local'],
    );
    await assert.rejects(
      manager.remove('b1', false),
      (e: VendettaError) => e.code === 'NODE_NOT_FOUND' && /node list/.test(e.hint ?? ''),
    );
    await assert.rejects(manager.remove('local', false), (e: VendettaError) => e.code === 'INVALID_NAME');
    await assert.rejects(manager.test('nope'), (e: VendettaError) => e.code === 'NODE_NOT_FOUND');
  });

  it('follows a hand edit of the registry: new nodes appear and connect, removed ones are closed', async () => {
    await add('b1', '10.0.0.1', { acceptNewHostKey: true });
    const b1 = ssh.clients.find((c) => c.nodeName === 'b1')!;
    registry.upsert({ name: 'b3', host: '10.0.0.3' });
    registry.remove('b1');
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(
      manager.list().map((n) => n.name),
      ['local', 'b3'],
    );
    assert.equal(b1.closed, true);
    assert.equal(ssh.clients.find((c) => c.nodeName === 'b3')?.connects, 1);
  });
});
