import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateRemoveNode } from '../../../coordinator/daemon/handlers';
import { VendettaError } from '../../../coordinator/errors';
import { homePaths, type HomePaths } from '../../../coordinator/home';
import { nullLogger } from '../../../coordinator/log';
import { WorkspaceManager } from '../../../coordinator/workspaces/manager';
import { planNodePurge, purgeNodeWorkspaces } from '../../../coordinator/workspaces/purgeNode';
import { agentError, FakeWorkspaceAgent, writeProject } from './fakeAgent';

describe("purging a node's workspaces (node remove --purge)", () => {
  let dir: string;
  let paths: HomePaths;
  let agents: Map<string, FakeWorkspaceAgent>;
  let m: WorkspaceManager;
  const project = (name: string) => {
    const p = join(dir, name);
    writeProject(p, {
      '.vendetta/config.yaml': `name: ${name}\nprovider: docker\ndocker: { image: test/debian:12 }\n`,
      'a.txt': 'a\n',
    });
    return p;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-purge-'));
    paths = homePaths(join(dir, 'home'));
    agents = new Map(['local', 'b1'].map((n) => [n, new FakeWorkspaceAgent(n, join(dir, 'nodes', n))]));
    m = new WorkspaceManager({
      paths,
      log: nullLogger,
      nodes: {
        agentClient: (n) => {
          const a = agents.get(n);
          if (!a) throw new VendettaError('NODE_NOT_FOUND', `There is no node named ${n}`, { hint: 'add it' });
          return a;
        },
      },
      proxyCommand: ['/usr/bin/node', '/x/vendetta.js', 'ssh-proxy', '--home', paths.root],
    });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("lists the node's workspaces from the node and from here, and removes each everywhere, leaving other nodes alone", async function () {
    this.timeout(20_000); // three ups, each generating keys
    await m.up({ path: project('shop'), node: 'b1' }, () => undefined);
    await m.up({ path: project('blog'), node: 'local' }, () => undefined);
    // Made from another machine: only the node knows it.
    const other = agents.get('b1')!;
    await other.request(
      { method: 'workspaces/create' } as never,
      { spec: { ...other.workspaces.get('shop')!.spec, name: 'theirs' } } as never,
    );
    // Known here, gone from the node.
    await m.up({ path: project('gone'), node: 'b1' }, () => undefined);
    other.workspaces.delete('gone');

    const plan = await planNodePurge(m, 'b1');
    assert.deepEqual(
      plan.map((w) => [w.name, w.state ?? 'here only', w.sshConfigBlock, w.knownHostsLine]),
      [
        ['gone', 'here only', true, true],
        ['shop', 'running', true, true],
        ['theirs', 'running', false, false],
      ],
    );
    assert.equal(plan[1]!.folder, other.folder('shop'));

    const removed = await purgeNodeWorkspaces(m, 'b1', ['gone', 'shop', 'theirs']);
    assert.deepEqual(
      removed.map((w) => w.name),
      ['gone', 'shop', 'theirs'],
    );
    assert.deepEqual([...other.workspaces.keys()], []);
    assert.equal(existsSync(other.folder('shop')), false);
    assert.deepEqual(
      m.records().map((r) => `${r.node}/${r.name}`),
      ['local/blog'],
    );
    const cfg = readFileSync(paths.sshConfig, 'utf8');
    assert.doesNotMatch(cfg, /shop\.b1|gone\.b1/);
    assert.match(cfg, /^Host blog\.local\.vendetta$/m);
    assert.equal(m.localTraces('shop.b1.vendetta').knownHostsLine, false);
    assert.ok(m.localTraces('blog.local.vendetta').knownHostsLine);
    assert.deepEqual(await planNodePurge(m, 'b1'), []);
  });

  it('removes nothing when the node has a workspace the user did not confirm', async function () {
    this.timeout(20_000);
    await m.up({ path: project('shop'), node: 'b1' }, () => undefined);
    await m.up({ path: project('late'), node: 'b1' }, () => undefined);
    await assert.rejects(
      purgeNodeWorkspaces(m, 'b1', ['shop']),
      (e: VendettaError) =>
        e.code === 'WORKSPACE_STATE' &&
        /not in the list you confirmed: late$/.test(e.message) &&
        /Nothing was removed/.test(e.hint ?? ''),
    );
    assert.deepEqual([...agents.get('b1')!.workspaces.keys()].sort(), ['late', 'shop']);
    assert.equal(m.records().length, 2);
  });

  it('a node that cannot list its workspaces is not purged, and the hint says how to forget it anyway', async () => {
    agents.get('b1')!.failNext.set('workspaces/list', agentError('b1', 'PROVIDER_ERROR', 'docker is down'));
    await assert.rejects(
      planNodePurge(m, 'b1'),
      (e: VendettaError) =>
        /^Cannot list the workspaces on b1 to purge them: docker is down$/.test(e.message) &&
        /without --purge/.test(e.hint ?? ''),
    );
  });

  it('checks the nodes/remove params: dryRun and workspaces only with purge, names only', () => {
    assert.deepEqual(validateRemoveNode({ name: 'b1', purge: true, dryRun: true }), {
      name: 'b1',
      purge: true,
      dryRun: true,
    });
    assert.deepEqual(validateRemoveNode({ name: 'b1', purge: true, workspaces: ['shop'] }), {
      name: 'b1',
      purge: true,
      workspaces: ['shop'],
    });
    assert.deepEqual(validateRemoveNode({ name: 'b1' }), { name: 'b1', purge: false });
    for (const bad of [
      { name: 'b1', dryRun: true },
      { name: 'b1', workspaces: [] },
      { name: 'b1', purge: true, workspaces: 'shop' },
      { name: 'b1', purge: true, workspaces: ['../x'] },
      { name: 'b1', bogus: 1 },
    ]) {
      assert.throws(
        () => validateRemoveNode(bad),
        (e: VendettaError) => e.code === 'INVALID_PARAMS' || e.code === 'INVALID_NAME',
        JSON.stringify(bad),
      );
    }
  });
});
