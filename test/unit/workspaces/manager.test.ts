import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VendettaError } from '../../../coordinator/errors';
import { homePaths, type HomePaths } from '../../../coordinator/home';
import { nullLogger } from '../../../coordinator/log';
import type { WorkspaceSummary } from '../../../coordinator/protocol';
import { KnownHosts } from '../../../coordinator/ssh/knownHosts';
import { SshConfigFile } from '../../../coordinator/sshConfig/sshConfigFile';
import { WorkspaceManager } from '../../../coordinator/workspaces/manager';
import { WorkspaceStore, workspacesFile } from '../../../coordinator/workspaces/store';
import { agentError, FakeWorkspaceAgent, writeProject } from './fakeAgent';

const CONFIG = 'name: shop\nprovider: docker\ndocker: { image: test/debian:12 }\n';

describe('workspaces, as the coordinator manages them', () => {
  let dir: string;
  let paths: HomePaths;
  let project: string;
  let agents: Map<string, FakeWorkspaceAgent>;
  let m: WorkspaceManager;
  const steps: string[] = [];
  const progress = (_s: number, _t: number, msg: string) => void steps.push(msg);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-wsm-'));
    paths = homePaths(join(dir, 'home'));
    project = join(dir, 'shop');
    writeProject(project, {
      '.vendetta/config.yaml': CONFIG,
      'README.md': '# shop\n',
      'src/a.js': 'a\n',
      'src/b.js': 'b\n',
    });
    agents = new Map(['local', 'build-1'].map((n) => [n, new FakeWorkspaceAgent(n, join(dir, 'nodes'))]));
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
    steps.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a workspace its node stopped for being idle is asked again and every client told, without polling', async () => {
    await m.up({ path: project }, progress);
    const seen: WorkspaceSummary[][] = [];
    m.onDidChange((all) => seen.push(all));
    const agent = agents.get('local')!;
    const at = new Date().toISOString();
    Object.assign(agent.workspaces.get('shop')!, { state: 'stopped', stopped: { reason: 'idle', at } });
    agent.emit('workspaces/didChange', { name: 'ghost' });
    agent.emit('workspaces/didChange', { name: 'shop' });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(seen.length, 1, 'one change, for the workspace it has');
    const shop = seen[0]!.find((w) => w.name === 'shop')!;
    assert.deepEqual([shop.state, shop.stopped], ['stopped', { reason: 'idle', at }]);
  });

  it('up: records it, pins its host key before writing its ssh_config block, and sends the project', async () => {
    const upsert = SshConfigFile.prototype.upsert;
    SshConfigFile.prototype.upsert = function (b) {
      assert.ok(new KnownHosts(paths.knownHosts).lookup(b.alias, 22), 'the key is pinned before the block exists');
      upsert.call(this, b);
    };
    const r = await m.up({ path: project }, progress).finally(() => (SshConfigFile.prototype.upsert = upsert));
    assert.equal(r.name, 'shop');
    assert.equal(r.node, 'local');
    assert.equal(r.state, 'running');
    assert.equal(r.sshHost, 'shop.local.vendetta');
    assert.equal(r.existed, false);
    assert.deepEqual(
      { files: r.sync?.files, sent: r.sync?.sent, deleted: r.sync?.deleted },
      { files: 4, sent: 4, deleted: 0 },
    );
    const agent = agents.get('local')!;
    assert.equal(readFileSync(join(agent.folder('shop'), 'src/a.js'), 'utf8'), 'a\n');
    const spec = agent.workspaces.get('shop')!.spec;
    assert.equal(spec.workspaceFolder, '/workspaces/shop');
    assert.equal(spec.user, 'root');
    assert.match(spec.authorizedKeys[0]!, /^ssh-ed25519 /);
    assert.equal(
      readFileSync(`${paths.keysDir}/workspace_ed25519.pub`, 'utf8').split(' ').slice(0, 2).join(' '),
      spec.authorizedKeys[0]!.split(' ').slice(0, 2).join(' '),
    );

    const cfg = readFileSync(paths.sshConfig, 'utf8');
    assert.match(cfg, /^Host shop\.local\.vendetta$/m);
    assert.match(cfg, /^ {2}HostKeyAlias shop\.local\.vendetta$/m);
    const pinned = new KnownHosts(paths.knownHosts).lookup('shop.local.vendetta', 22);
    assert.equal(pinned?.fingerprint, agent.workspaces.get('shop')!.ssh!.hostKey.fingerprint);
    const records = JSON.parse(readFileSync(join(paths.stateDir, 'workspaces.json'), 'utf8')) as {
      workspaces: unknown[];
    };
    assert.deepEqual(
      records.workspaces.map((w) => (w as { name: string }).name),
      ['shop'],
    );
    assert.ok(steps.includes('pulling nothing'), "the agent's progress is passed on, without its own step numbers");
    assert.ok(steps.includes('Syncing code'));
  });

  it('a second up only syncs, and sends only the file that changed; deletes only what it sent and is gone here', async () => {
    await m.up({ path: project }, progress);
    const agent = agents.get('local')!;
    writeFileSync(join(agent.folder('shop'), 'made-in-workspace.txt'), 'mine');
    writeFileSync(join(project, 'src/a.js'), 'a changed\n');
    const later = new Date(Date.now() + 5000);
    utimesSync(join(project, 'src/a.js'), later, later);
    unlinkSync(join(project, 'src/b.js'));
    const r = await m.up({ path: project }, progress);
    assert.equal(r.existed, true);
    assert.deepEqual(
      { files: r.sync?.files, sent: r.sync?.sent, deleted: r.sync?.deleted },
      { files: 3, sent: 1, deleted: 1 },
    );
    assert.equal(readFileSync(join(agent.folder('shop'), 'src/a.js'), 'utf8'), 'a changed\n');
    assert.equal(existsSync(join(agent.folder('shop'), 'src/b.js')), false);
    assert.equal(
      readFileSync(join(agent.folder('shop'), 'made-in-workspace.txt'), 'utf8'),
      'mine',
      'a file made in the workspace survives',
    );

    const runs = agent.syncRuns;
    const again = await m.up({ path: project }, progress);
    assert.equal(again.sync?.sent, 0);
    assert.equal(agent.syncRuns, runs, 'nothing changed: no stream at all');
  });

  it("reports a refused sync with the receiver's own words, keeps the workspace, and the next up sends it all", async () => {
    const agent = agents.get('local')!;
    agent.syncFailure = {
      code: 'SYNC_REFUSED',
      message: 'The sync stream was refused: a path leaves the project',
      hint: 'send relative paths',
    };
    await assert.rejects(
      m.up({ path: project }, progress),
      (e: VendettaError) =>
        e.code === 'SYNC_FAILED' &&
        /shop on local failed: The sync stream was refused: a path leaves the project/.test(e.message) &&
        e.hint === 'send relative paths' &&
        e.details?.receiverCode === 'SYNC_REFUSED',
    );
    assert.equal(m.records().length, 1, 'the workspace itself is there');
    const r = await m.up({ path: project }, progress);
    assert.equal(r.sync?.sent, 4);
  });

  it('names on two nodes are ambiguous until --node says which', async () => {
    await m.up({ path: project }, progress);
    await m.up({ path: project, node: 'build-1' }, progress);
    await assert.rejects(
      m.status({ name: 'shop' }),
      (e: VendettaError) =>
        e.code === 'WORKSPACE_AMBIGUOUS' &&
        /--node/.test(e.hint ?? '') &&
        /local, build-1|build-1, local/.test(e.message),
    );
    assert.equal((await m.status({ name: 'shop', node: 'build-1' })).node, 'build-1');
    await assert.rejects(m.status({ name: 'ghost' }), (e: VendettaError) => e.code === 'WORKSPACE_NOT_FOUND');
    const cfg = readFileSync(paths.sshConfig, 'utf8');
    assert.match(cfg, /^Host shop\.local\.vendetta$/m);
    assert.match(cfg, /^Host shop\.build-1\.vendetta$/m);
  });

  it('rm leaves nothing behind: node workspace, record, ssh_config block, pinned key, sync record', async () => {
    await m.up({ path: project }, progress);
    await m.up({ path: project, node: 'build-1' }, progress);
    await assert.rejects(
      m.remove({ name: 'shop', node: 'local' }),
      (e: VendettaError) => e.code === 'WORKSPACE_STATE' && /--force/.test(e.hint ?? ''),
    );
    await m.remove({ name: 'shop', node: 'local', force: true });
    assert.equal(agents.get('local')!.workspaces.size, 0);
    assert.equal(existsSync(agents.get('local')!.folder('shop')), false);
    assert.doesNotMatch(readFileSync(paths.sshConfig, 'utf8'), /shop\.local\.vendetta/);
    assert.doesNotMatch(readFileSync(paths.knownHosts, 'utf8'), /shop\.local\.vendetta/);
    assert.equal(existsSync(join(paths.stateDir, 'sync', 'local', 'shop.json')), false);
    assert.deepEqual(
      m.records().map((r) => `${r.name}@${r.node}`),
      ['shop@build-1'],
      "the other node's workspace is untouched",
    );
    assert.match(readFileSync(paths.sshConfig, 'utf8'), /shop\.build-1\.vendetta/);
  });

  it('rm of a workspace its node already lost still cleans up here', async () => {
    await m.up({ path: project }, progress);
    agents.get('local')!.workspaces.delete('shop');
    const [row] = await m.list();
    assert.equal(row?.state, 'missing');
    await m.remove({ name: 'shop' });
    assert.deepEqual(m.records(), []);
  });

  it('forgets a workspace whose node was removed only when forced', async () => {
    await m.up({ path: project, node: 'build-1' }, progress);
    agents.delete('build-1');
    const [row] = await m.list();
    assert.deepEqual([row?.state, row?.error?.code], ['error', 'NODE_NOT_FOUND']);
    await assert.rejects(
      m.remove({ name: 'shop' }),
      (e: VendettaError) => e.code === 'NODE_NOT_FOUND' && /--force/.test(e.hint ?? ''),
    );
    await m.remove({ name: 'shop', force: true });
    assert.deepEqual(m.records(), []);
    assert.doesNotMatch(readFileSync(paths.sshConfig, 'utf8'), /shop\.build-1/);
  });

  it('refuses a name that another project already uses on that node', async () => {
    await m.up({ path: project }, progress);
    const other = join(dir, 'other');
    writeProject(other, { '.vendetta/config.yaml': CONFIG });
    await assert.rejects(
      m.up({ path: other }, progress),
      (e: VendettaError) => e.code === 'WORKSPACE_EXISTS' && /--name/.test(e.hint ?? ''),
    );
    const r = await m.up({ path: other, name: 'shop-2' }, progress);
    assert.equal(r.sshHost, 'shop-2.local.vendetta');
    assert.equal(agents.get('local')!.workspaces.get('shop-2')!.spec.workspaceFolder, '/workspaces/shop-2');
  });

  it('forgets a new workspace the node refused, keeps one a cut link left half-made', async () => {
    const agent = agents.get('local')!;
    agent.failNext.set(
      'workspaces/create',
      agentError('local', 'IMAGE_NOT_FOUND', 'The image test/debian:12 is not on local', 'build it'),
    );
    await assert.rejects(
      m.up({ path: project }, progress),
      (e: VendettaError) => /image test\/debian:12/.test(e.message) && e.hint === 'build it',
    );
    assert.deepEqual(m.records(), []);
    assert.equal(existsSync(paths.sshConfig), false);

    agent.failNext.set(
      'workspaces/create',
      new VendettaError('NODE_UNREACHABLE', 'Lost the connection to local', { hint: 'retry' }),
    );
    await assert.rejects(m.up({ path: project }, progress), (e: VendettaError) => e.code === 'NODE_UNREACHABLE');
    const rows: WorkspaceSummary[] = m.cached();
    assert.equal(rows[0]?.state, 'error');
    assert.equal(rows[0]?.error?.code, 'NODE_UNREACHABLE');
    const r = await m.up({ path: project }, progress);
    assert.equal(r.state, 'running', 'the retry completes');
  });

  it('says what is wrong with a config, where, before asking any node', async () => {
    writeFileSync(join(project, '.vendetta/config.yaml'), 'name: shop\nprovider: dokker\n');
    await assert.rejects(
      m.up({ path: project }, progress),
      (e: VendettaError) => e.code === 'CONFIG_INVALID' && /config\.yaml:2:\d+: /.test(e.message),
    );
    await assert.rejects(
      m.up({ path: join(dir, 'nowhere') }, progress),
      (e: VendettaError) => e.code === 'CONFIG_INVALID' && /not a project/.test(e.message),
    );
    await assert.rejects(
      m.up({ path: dir }, progress),
      (e: VendettaError) => e.code === 'CONFIG_INVALID' && /not a project/.test(e.message),
    );
    assert.deepEqual(agents.get('local')!.calls, []);
  });

  it('lists every workspace with what its node says now, and an unreachable node as an error', async () => {
    await m.up({ path: project }, progress);
    await m.up({ path: project, node: 'build-1' }, progress);
    await m.stop({ name: 'shop', node: 'build-1' });
    agents
      .get('local')!
      .failNext.set(
        'workspaces/list',
        new VendettaError('NODE_UNREACHABLE', 'Cannot reach local', { hint: 'check it' }),
      );
    const rows = await m.list();
    assert.deepEqual(
      rows.map((r) => [r.node, r.state, r.error?.code]),
      [
        ['build-1', 'stopped', undefined],
        ['local', 'error', 'NODE_UNREACHABLE'],
      ],
    );
    assert.deepEqual(Object.keys(rows[0]!).sort(), [
      'createdAt',
      'name',
      'node',
      'projectPath',
      'provider',
      'sshHost',
      'state',
      'workspaceFolder',
    ]);
  });

  it('tells listeners after each change', async () => {
    const seen: string[][] = [];
    m.onDidChange((all) => seen.push(all.map((w) => `${w.name}:${w.state}`)));
    await m.up({ path: project }, progress);
    await m.stop({ name: 'shop' });
    await m.start({ name: 'shop' });
    await m.remove({ name: 'shop', force: true });
    assert.deepEqual(seen.at(-1), []);
    assert.ok(seen.some((s) => s[0] === 'shop:stopped'));
    assert.ok(seen.some((s) => s[0] === 'shop:running'));
  });
  it('points existing ssh_config blocks at the current ProxyCommand when a new coordinator starts', async () => {
    await m.up({ path: project }, progress);
    const later = new WorkspaceManager({
      paths,
      log: nullLogger,
      nodes: { agentClient: () => agents.get('local')! },
      proxyCommand: ['/usr/bin/node', '/new dist/vendetta.js', 'ssh-proxy', '--home', paths.root],
    });
    assert.equal(later.refreshSshConfig(), 1);
    const text = readFileSync(paths.sshConfig, 'utf8');
    assert.match(text, /ProxyCommand .*'\/new dist\/vendetta\.js' 'ssh-proxy'/);
    assert.doesNotMatch(text, /\/x\/vendetta\.js/);
    assert.equal(later.refreshSshConfig(), 0, 'nothing to change the second time');
    // A workspace whose block was never written (its up stopped early) gets none.
    new WorkspaceStore(workspacesFile(paths)).upsert({
      ...later.record('shop', 'local')!,
      name: 'half',
      sshHost: 'half.local.vendetta',
    });
    const third = new WorkspaceManager({
      paths,
      log: nullLogger,
      nodes: { agentClient: () => agents.get('local')! },
      proxyCommand: ['/usr/bin/node', '/new dist/vendetta.js', 'ssh-proxy', '--home', paths.root],
    });
    assert.equal(third.records().length, 2);
    assert.equal(third.refreshSshConfig(), 0);
    assert.equal(third.localTraces('half.local.vendetta').sshConfigBlock, false);
  });
});
