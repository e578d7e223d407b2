import assert from 'node:assert/strict';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dir, MAX_DEPTH } from '../../../agent/fs/beneath';
import { BeneathError, type BeneathCode } from '../../../agent/fs/beneathError';
import { openBeneath } from '../../../agent/fs/beneathPaths';

function fails(fn: () => unknown, code: BeneathCode, path?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BeneathError, String(err));
    assert.equal(err.code, code);
    if (path !== undefined) assert.equal(err.path, path);
    return true;
  });
}

describe('work below a folder never follows a link planted in it', () => {
  let base: string;
  let rootPath: string;
  let outside: string;
  let root: Dir;
  let outsideMode: number;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'vendetta-beneath-'));
    rootPath = join(base, 'root');
    outside = join(base, 'outside');
    mkdirSync(join(rootPath, 'a', 'b'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep'), 'node file');
    outsideMode = statSync(outside).mode;
    root = Dir.openRoot(rootPath);
  });
  afterEach(() => {
    root.close();
    rmSync(base, { recursive: true, force: true });
  });
  const untouched = (): void => {
    assert.deepEqual(readdirSync(outside), ['keep'], 'nothing appeared or vanished outside');
    assert.equal(readFileSync(join(outside, 'keep'), 'utf8'), 'node file');
    assert.equal(statSync(outside).mode, outsideMode, 'its mode is unchanged');
  };

  it('refuses a root that is a link, or not a folder', () => {
    symlinkSync(outside, join(base, 'rootlink'));
    fails(() => Dir.openRoot(join(base, 'rootlink')), 'LINK_IN_PATH');
    writeFileSync(join(base, 'plain'), '');
    fails(() => Dir.openRoot(join(base, 'plain')), 'NOT_A_FOLDER');
  });

  it('refuses names that are not one segment', () => {
    for (const bad of ['', '.', '..', 'a/b', 'x\0y']) fails(() => root.at(bad), 'BAD_NAME');
  });

  it('refuses a link at the first, a middle and the last folder of a walk; with create it replaces the link by a folder', () => {
    for (const segs of [['a'], ['a', 'b'], ['a', 'b', 'c']]) {
      rmSync(join(rootPath, 'a'), { recursive: true, force: true });
      mkdirSync(join(rootPath, 'a', 'b', 'c'), { recursive: true });
      const linkAt = join(rootPath, ...segs);
      rmSync(linkAt, { recursive: true });
      symlinkSync(outside, linkAt);
      fails(() => openBeneath(root, ['a', 'b', 'c']), 'LINK_IN_PATH', segs.join('/'));
      const made: string[] = [];
      const d = openBeneath(root, ['a', 'b', 'c'], { mode: 0o755, made: (x) => made.push(x.path) })!;
      closeSync(d.createFile('new', 0o644));
      d.close();
      assert.ok(lstatSync(linkAt).isDirectory(), `${segs.join('/')} is a real folder now`);
      assert.ok(existsSync(join(rootPath, 'a', 'b', 'c', 'new')));
      assert.ok(made.includes(segs.join('/')));
      untouched();
    }
  });

  it('refuses a file where a folder is expected unless asked to replace it', () => {
    writeFileSync(join(rootPath, 'f'), 'x');
    fails(() => root.openDir('f'), 'NOT_A_FOLDER', 'f');
    fails(() => root.ensureDir('f', 0o755, false), 'NOT_A_FOLDER');
    root.ensureDir('f', 0o755, true).close();
    assert.ok(lstatSync(join(rootPath, 'f')).isDirectory());
    assert.equal(openBeneath(root, ['nope', 'x']), undefined, 'a missing folder without create');
  });

  it('never creates, opens or changes the mode of a file through a link at the last position', () => {
    symlinkSync(join(outside, 'keep'), join(rootPath, 'ln'));
    symlinkSync(join(outside, 'new'), join(rootPath, 'dangling'));
    assert.throws(() => root.createFile('ln', 0o644), { code: 'EEXIST' });
    assert.throws(() => root.createFile('dangling', 0o644), { code: 'EEXIST' });
    assert.equal(root.openFileForRead('ln'), undefined);
    root.lchown('ln', process.getuid!(), process.getgid!());
    root.lutimes('ln', 1_000_000);
    assert.equal(root.readlink('ln'), join(outside, 'keep'));
    untouched();
  });

  it('keeps writing into the folder it holds after the workspace swaps it for a link', () => {
    const a = root.openDir('a')!;
    renameSync(join(rootPath, 'a'), join(rootPath, 'moved'));
    symlinkSync(outside, join(rootPath, 'a'));
    const fd = a.createFile('f', 0o644);
    writeSync(fd, 'data');
    closeSync(fd);
    a.ensureDir('sub', 0o755, true).close();
    a.symlink('f', 'l');
    a.hardlink(a, 'f', 'h');
    a.rename('f', 'g');
    a.chmod(0o700);
    a.utimes(1_000_000);
    a.close();
    assert.deepEqual(readdirSync(join(rootPath, 'moved')).sort(), ['b', 'g', 'h', 'l', 'sub']);
    assert.equal(statSync(join(rootPath, 'moved')).mode & 0o777, 0o700);
    untouched();
  });

  it('reads only regular files: no link, no fifo', () => {
    writeFileSync(join(rootPath, 'plain'), 'abc');
    const r = root.openFileForRead('plain')!;
    assert.equal(r.stat.size, 3);
    closeSync(r.fd);
    assert.equal(root.openFileForRead('a'), undefined, 'a folder');
    assert.equal(root.openFileForRead('missing'), undefined);
    execFileSync('mkfifo', [join(rootPath, 'fifo')]);
    assert.equal(root.openFileForRead('fifo'), undefined, 'a fifo is not waited on');
    execFileSync('mknod', [join(rootPath, 'null'), 'c', '1', '3']);
    assert.equal(root.openFileForRead('null'), undefined, 'a device node is not opened');
    symlinkSync(join(rootPath, 'plain'), join(rootPath, 'ln'));
    assert.equal(root.openFileForRead('ln'), undefined, 'a link is not followed');
  });

  it('deletes a tree through descriptors: links inside are removed, never followed', () => {
    mkdirSync(join(rootPath, 't', 'x', 'y'), { recursive: true });
    symlinkSync(outside, join(rootPath, 't', 'x', 'out'));
    symlinkSync(outside, join(rootPath, 't', 'x', 'y', 'out'));
    writeFileSync(join(rootPath, 't', 'x', 'y', 'f'), '1');
    symlinkSync(outside, join(rootPath, 'toplink'));
    assert.equal(root.remove('t'), true);
    assert.equal(root.remove('toplink'), true);
    assert.equal(root.remove('never-there'), false);
    assert.deepEqual(readdirSync(rootPath).sort(), ['a']);
    untouched();
    root.openDir('a')!.empty();
    assert.deepEqual(readdirSync(join(rootPath, 'a')), []);
  });

  it('refuses to delete a tree nested deeper than it holds descriptors for, and says so', function () {
    this.timeout(60_000); // a thousand folders made and walked, on a busy machine
    let d = root.ensureDir('deep', 0o755, false);
    for (let i = 0; i <= MAX_DEPTH; i++) {
      const next = d.ensureDir('d', 0o755, false);
      d.close();
      d = next;
    }
    d.close();
    fails(() => root.remove('deep'), 'TOO_DEEP');
    untouched();
    execFileSync('rm', ['-rf', join(rootPath, 'deep')]);
  });
});
