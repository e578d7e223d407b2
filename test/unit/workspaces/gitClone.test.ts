import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shScript } from '../../../coordinator/ssh/shellQuote';
import { CLONE_SCRIPT } from '../../../coordinator/workspaces/gitClone';

/** The command line exactly as the workspace's login shell receives it over SSH. */
function runClone(
  folder: string,
  url: string,
  ref = '',
  path = process.env.PATH ?? '',
): { code: number | null; stdout: string } {
  const r = spawnSync('/bin/sh', ['-c', shScript(CLONE_SCRIPT, [folder, url, ref])], {
    encoding: 'utf8',
    env: { PATH: path, HOME: tmpdir() },
  });
  return { code: r.status, stdout: r.stdout };
}

function git(cwd: string, args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'init.defaultBranch=main', ...args],
    { cwd, encoding: 'utf8', stdio: 'pipe' },
  );
}

describe('--git: the clone script run inside the workspace', () => {
  let dir: string;
  let origin: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-clone-'));
    origin = join(dir, 'origin');
    mkdirSync(origin);
    git(origin, ['init', '-q']);
    writeFileSync(join(origin, 'f.txt'), 'v1\n');
    git(origin, ['add', '.']);
    git(origin, ['commit', '-q', '-m', 'one']);
    git(origin, ['tag', 'v1']);
    writeFileSync(join(origin, 'f.txt'), 'v2\n');
    git(origin, ['commit', '-q', '-am', 'two']);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('clones into the (empty, existing) workspace folder, at a ref when given', () => {
    const ws = join(dir, 'ws');
    mkdirSync(ws);
    const r = runClone(ws, `file://${origin}`, 'v1');
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /vendetta-git: cloned/);
    assert.equal(readFileSync(join(ws, 'f.txt'), 'utf8'), 'v1\n');
    const head = runClone(join(dir, 'ws2'), `file://${origin}`);
    assert.equal(head.code, 0);
    assert.equal(readFileSync(join(dir, 'ws2', 'f.txt'), 'utf8'), 'v2\n');
  });

  it('leaves an existing clone alone, and refuses a folder holding other files', () => {
    const ws = join(dir, 'ws');
    assert.equal(runClone(ws, `file://${origin}`).code, 0);
    const again = runClone(ws, `file://${origin}`);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /already-cloned/);
    const busy = join(dir, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'x'), '');
    assert.equal(runClone(busy, `file://${origin}`).code, 4);
  });

  it('says when git is missing or the ref does not exist', () => {
    const shOnly = join(dir, 'bin');
    mkdirSync(shOnly);
    symlinkSync('/bin/sh', join(shOnly, 'sh'));
    const noGit = runClone(join(dir, 'ws'), `file://${origin}`, '', shOnly);
    assert.equal(noGit.code, 3);
    assert.match(noGit.stdout, /git-missing/);
    assert.equal(runClone(join(dir, 'ws3'), `file://${origin}`, 'no-such-ref').code, 6);
  });

  it('passes a hostile URL to git as one argument, never to the shell', () => {
    const marker = join(dir, 'pwned');
    const r = runClone(join(dir, 'ws4'), `file://${origin}$(touch ${marker});touch ${marker}`);
    assert.notEqual(r.code, 0);
    assert.equal(existsSync(marker), false);
  });
});
