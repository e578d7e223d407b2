import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listProjectFiles } from '../../../coordinator/sync/fileList';

function write(root: string, files: string[]): void {
  for (const f of files) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), f);
  }
}

function git(cwd: string, args: string[]): void {
  execFileSync(
    'git',
    ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'init.defaultBranch=main', ...args],
    { cwd, stdio: 'pipe' },
  );
}

describe('which project files are sent', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-files-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('in a git repository: tracked plus untracked files that .gitignore does not exclude', async () => {
    write(dir, [
      '.gitignore',
      'src/a.ts',
      'src/deleted.ts',
      'untracked.txt',
      'node_modules/x/index.js',
      'build/out.js',
      'name with spaces.txt',
    ]);
    writeFileSync(join(dir, '.gitignore'), 'node_modules/\nbuild/\n');
    git(dir, ['init', '-q']);
    git(dir, ['add', '.gitignore', 'src']);
    git(dir, ['commit', '-q', '-m', 'init']);
    unlinkSync(join(dir, 'src/deleted.ts'));
    symlinkSync('src/a.ts', join(dir, 'link'));
    const r = await listProjectFiles(dir);
    assert.equal(r.source, 'git');
    assert.deepEqual(
      r.files.map((f) => f.path),
      ['.gitignore', 'link', 'name with spaces.txt', 'src/a.ts', 'untracked.txt'],
    );
    const link = r.files.find((f) => f.path === 'link');
    assert.equal(link?.kind, 'symlink');
    assert.equal(link?.linkTarget, 'src/a.ts');
    assert.equal(r.files.find((f) => f.path === 'src/a.ts')?.size, 'src/a.ts'.length);
  });

  it('in a folder of a repository: that folder only, paths relative to it', async () => {
    write(dir, ['top.txt', 'proj/a.txt', 'proj/sub/b.txt']);
    git(dir, ['init', '-q']);
    const r = await listProjectFiles(join(dir, 'proj'));
    assert.equal(r.source, 'git');
    assert.deepEqual(
      r.files.map((f) => f.path),
      ['a.txt', 'sub/b.txt'],
    );
  });

  it('outside git: every file but .git folders', async () => {
    write(dir, ['a', 'node_modules/m.js', 'sub/.git/HEAD', '.hidden', 'sub/b']);
    const r = await listProjectFiles(dir);
    assert.equal(r.source, 'walk');
    assert.deepEqual(
      r.files.map((f) => f.path),
      ['.hidden', 'a', 'node_modules/m.js', 'sub/b'],
    );
  });
});
