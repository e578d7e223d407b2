import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatUp, formatUpWarnings } from '../../../coordinator/cli/workspaceOutput';
import { homePaths } from '../../../coordinator/home';
import { nullLogger } from '../../../coordinator/log';
import { validateReadFile, validateResolve } from '../../../coordinator/workspaces/handlers';
import { WorkspaceManager } from '../../../coordinator/workspaces/manager';
import { checkReadReply } from '../../../coordinator/workspaces/syncConflicts';
import { FakeWorkspaceAgent, writeProject } from './fakeAgent';

const CONFIG = 'name: shop\nprovider: docker\ndocker: { image: test/debian:12 }\n';

describe('sync conflicts, as the coordinator reports and settles them', () => {
  let dir: string;
  let project: string;
  let agent: FakeWorkspaceAgent;
  let m: WorkspaceManager;
  const progress = () => undefined;
  let tick = 0;
  const edit = (file: string, text: string) => {
    writeFileSync(file, text);
    const t = new Date(Date.now() + ++tick * 2000);
    utimesSync(file, t, t);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-conflicts-'));
    const paths = homePaths(join(dir, 'home'));
    project = join(dir, 'shop');
    writeProject(project, { '.vendetta/config.yaml': CONFIG, 'README.md': '# shop\n', 'a.txt': 'a\n' });
    agent = new FakeWorkspaceAgent('local', join(dir, 'nodes'));
    m = new WorkspaceManager({
      paths,
      log: nullLogger,
      nodes: { agentClient: () => agent },
      proxyCommand: ['/usr/bin/node', '/x/vendetta.js', 'ssh-proxy'],
    });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists a conflict, shows the workspace copy, and settles it either way', async () => {
    await m.up({ path: project }, progress);
    const node = agent.folder('shop');
    edit(join(node, 'README.md'), '# theirs\n');
    edit(join(node, 'a.txt'), 'a theirs\n');
    edit(join(project, 'README.md'), '# mine\n');
    edit(join(project, 'a.txt'), 'a mine\n');
    const r = await m.up({ path: project }, progress);
    assert.deepEqual(
      r.sync?.conflicts.map((c) => c.path),
      ['README.md', 'a.txt'],
    );
    assert.match(
      formatUp(r),
      /conflicts \(changed on both sides; the workspace's version was kept\):\n {4}README\.md +modified here, modified in the workspace\n {4}a\.txt/,
    );
    assert.equal(
      formatUpWarnings(r.warnings),
      "warning: 2 files changed both here and in the workspace since the last sync; the workspace's version was kept (`up --overwrite` sends yours)\n",
    );

    const copy = await m.readSyncedFile({ name: 'shop', path: 'README.md' });
    assert.equal(Buffer.from(copy.content ?? '', 'base64').toString(), '# theirs\n');

    const took = await m.resolveConflict({ name: 'shop', path: 'README.md', take: 'local' });
    assert.equal(took.sync?.sent, 1);
    assert.equal(readFileSync(join(node, 'README.md'), 'utf8'), '# mine\n');
    assert.deepEqual(await m.resolveConflict({ name: 'shop', path: 'a.txt', take: 'workspace' }), {
      path: 'a.txt',
      take: 'workspace',
    });
    const after = await m.up({ path: project }, progress);
    assert.deepEqual(
      [after.sync?.conflicts, after.sync?.sent, readFileSync(join(node, 'a.txt'), 'utf8')],
      [[], 0, 'a theirs\n'],
    );
    assert.deepEqual(after.warnings, [], 'no conflicts left, no warning');
    edit(join(project, 'a.txt'), 'a mine again\n');
    assert.equal((await m.up({ path: project }, progress)).sync?.sent, 1, 'a later change here is sent again');
  });

  it('refuses paths outside the project, bad choices and malformed agent answers', () => {
    for (const path of ['../x', '/etc/passwd', 'a//b', './a', '']) {
      assert.throws(() => validateReadFile({ name: 'shop', path }), /invalid path/);
    }
    assert.throws(() => validateResolve({ name: 'shop', path: 'a', take: 'both' }), /take must be/);
    assert.deepEqual(validateResolve({ name: 'shop', node: 'b1', path: 'src/a', take: 'local' }), {
      name: 'shop',
      node: 'b1',
      path: 'src/a',
      take: 'local',
    });
    assert.throws(() => checkReadReply({ kind: 'elsewhere' }, 'b1'), /malformed/);
    assert.throws(() => checkReadReply(null, 'b1'), /malformed/);
    assert.deepEqual(checkReadReply({ kind: 'file', size: 3, extra: 1 }, 'b1'), { kind: 'file', size: 3 });
  });

  it('up names the services it restarted for the sync and those that still run the old code', async () => {
    const r = await m.up({ path: project }, progress);
    const text = formatUp({ ...r, restartedServices: ['api', 'web'], staleServices: ['vite'] });
    assert.match(text, /^ {2}restart: api, web \(the sync changed the project\)$/m);
    assert.match(
      text,
      /^ {2}stale: {3}vite still runs the code from before this sync \(reload: never\): `vendetta workspace restart shop vite`$/m,
    );
    assert.doesNotMatch(formatUp(r), /restart:|stale:/);
  });
});
