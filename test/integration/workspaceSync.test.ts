import assert from 'node:assert/strict';
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SyncConflict, WorkspaceUpResult } from '../../coordinator/protocol';
import { TEST_IMAGE } from '../infra/image';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';

const NAME = 'sync3';
const FOLDER = `/workspaces/${NAME}`;

function parse<T>(r: { code: number; stdout: string; stderr: string }, what: string): T {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

describe('a sync never overwrites what was changed inside the workspace (built CLI, real dockerd)', function () {
  let env: WorkspaceEnv;
  let project: string;
  let tick = 0;

  /** Writes a project file with an mtime no earlier change can share. */
  const write = (path: string, text: string) => {
    mkdirSync(join(project, path, '..'), { recursive: true });
    writeFileSync(join(project, path), text);
    const t = new Date(Date.now() + ++tick * 2000);
    utimesSync(join(project, path), t, t);
  };
  /** A shell command run inside the workspace, in its project folder. */
  const inside = async (script: string): Promise<string> => {
    const r = await env.cli(['workspace', 'exec', NAME, '--', 'sh', '-c', `cd ${FOLDER} && ${script}`]);
    assert.equal(r.code, 0, `${script}: ${r.stderr}`);
    return r.stdout;
  };
  const up = async (...extra: string[]) =>
    parse<WorkspaceUpResult>(await env.cli(['workspace', 'up', project, '--json', ...extra]), 'up');

  before(async function () {
    if (process.getuid?.() !== 0 && process.env.CI !== 'true') {
      console.log('    (skipped: the Docker workspace suite needs root)');
      this.skip(); // not root, off CI: the suite needs dockerd and network namespaces
    }
    this.timeout(600_000);
    env = await createWorkspaceEnv();
    project = join(env.h.dir, 'projects', NAME);
    mkdirSync(join(project, '.vendetta'), { recursive: true });
    writeFileSync(
      join(project, '.vendetta', 'config.yaml'),
      `name: ${NAME}\nprovider: docker\ndocker:\n  image: ${TEST_IMAGE}\n`,
    );
    for (const f of [
      'README.md',
      'laptop.txt',
      'both.txt',
      'del-here.txt',
      'del-there.txt',
      'plain.txt',
      'data',
      'over.txt',
    ])
      write(f, `${f} as first sent\n`);
    const first = await up();
    assert.equal(first.sync?.sent, first.sync?.files, 'the first up into an empty folder sends everything');
  });

  after(async function () {
    this.timeout(120_000);
    if (!env) return;
    await env.cli(['workspace', 'rm', NAME, '--force']).catch(() => undefined);
    await env.cleanup();
  });

  it('keeps an edit made inside the workspace, and still sends what only the laptop changed', async () => {
    await inside(`printf 'edited inside\\n' > README.md`);
    write('laptop.txt', 'changed on the laptop\n');
    const r = await up();
    assert.deepEqual([r.sync?.sent, r.sync?.kept, r.sync?.conflicts], [1, 1, []], JSON.stringify(r.sync));
    assert.equal(await inside('cat README.md'), 'edited inside\n');
    assert.equal(await inside('cat laptop.txt'), 'changed on the laptop\n');
    assert.equal((await up()).sync?.sent, 0, 'and the next up has nothing to send');
  });

  it('reports a file changed on both sides as a conflict, keeps the workspace version, exits 0 with a warning', async () => {
    await inside(`printf 'their edit\\n' > both.txt`);
    write('both.txt', 'my edit\n');
    const text = await env.cli(['workspace', 'up', project]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stderr,
      /^warning: 1 file changed both here and in the workspace since the last sync; the workspace's version was kept/m,
    );
    assert.match(
      text.stdout,
      /conflicts \(changed on both sides; the workspace's version was kept\):\n +both\.txt +modified here, modified in the workspace$/m,
    );
    assert.equal(await inside('cat both.txt'), 'their edit\n');
    const again = await up();
    assert.deepEqual(
      again.sync?.conflicts,
      [{ path: 'both.txt', local: 'modified', workspace: 'modified' }],
      'reported again until settled',
    );
    assert.equal(again.sync?.conflictCount, 1);
    assert.equal(await inside('cat both.txt'), 'their edit\n');
  });

  it('treats a delete on one side and a change on the other as a conflict; deletes what only the laptop deleted', async () => {
    await inside(`printf 'changed inside\\n' > del-here.txt && rm del-there.txt`);
    rmSync(join(project, 'del-here.txt'));
    write('del-there.txt', 'changed on the laptop\n');
    rmSync(join(project, 'plain.txt'));
    const r = await up();
    const mine = (r.sync?.conflicts ?? []).filter((c) => c.path !== 'both.txt');
    assert.deepEqual(mine, [
      { path: 'del-here.txt', local: 'deleted', workspace: 'modified' },
      { path: 'del-there.txt', local: 'modified', workspace: 'deleted' },
    ] satisfies SyncConflict[]);
    assert.equal(r.sync?.deleted, 1);
    assert.equal(await inside('cat del-here.txt; ls'), 'changed inside\n' + (await inside('ls')));
    assert.equal(
      await inside('test -e del-there.txt && echo there || echo gone; test -e plain.txt && echo there || echo gone'),
      'gone\ngone\n',
    );
  });

  it('keeps a folder the workspace made where a synced path lands', async () => {
    await inside(
      `mkdir -p build/obj && echo keep > build/obj/out.o && rm data && mkdir data && echo mine > data/inner`,
    );
    write('build', 'a file the laptop added\n');
    const r = await up();
    const byPath = new Map((r.sync?.conflicts ?? []).map((c) => [c.path, c]));
    assert.deepEqual(byPath.get('build'), { path: 'build', local: 'added', workspace: 'folder' });
    assert.equal(byPath.has('data'), false, 'data changed only inside: kept without a conflict');
    assert.equal(await inside('cat build/obj/out.o data/inner'), 'keep\nmine\n');
  });

  it('settles one conflict either way: keep the workspace version (no longer reported), or send the local one', async () => {
    const keep = await env.cli(['workspace', 'resolve', NAME, 'del-here.txt', '--take', 'workspace']);
    assert.equal(keep.code, 0, keep.stderr);
    const take = parse<{ sync?: { sent: number } }>(
      await env.cli(['workspace', 'resolve', NAME, 'del-there.txt', '--take', 'local', '--json']),
      'resolve',
    );
    assert.equal(take.sync?.sent, 1);
    assert.equal(await inside('cat del-there.txt del-here.txt'), 'changed on the laptop\nchanged inside\n');
    const r = await up();
    assert.deepEqual(
      (r.sync?.conflicts ?? []).map((c) => c.path),
      ['both.txt', 'build'],
    );
  });

  it('up --overwrite sends the laptop version over the workspace changes and says what it replaced', async () => {
    await inside(`printf 'inside\\n' > over.txt`);
    write('over.txt', 'laptop wins\n');
    const text = await env.cli(['workspace', 'up', project, '--overwrite']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /replaced by this folder's version \(--overwrite\):[\s\S]*over\.txt +modified here, modified in the workspace/,
    );
    assert.doesNotMatch(text.stderr, /^warning:/m);
    assert.equal(await inside('cat over.txt both.txt build'), 'laptop wins\nmy edit\na file the laptop added\n');
    const r = await up();
    assert.deepEqual([r.sync?.sent, r.sync?.conflicts], [0, []], 'after an overwrite both sides agree');
  });
});
