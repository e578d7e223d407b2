import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDirFsyncRefusal, writeFileAtomic, writeFileAtomicSync } from '../../../common/fs/atomicWrite';

describe('atomic file writes (common)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-atomic-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('the async variant replaces a file whole, with the asked mode, leaving no temp file', async () => {
    const f = join(dir, 'state.json');
    writeFileSync(f, 'old');
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    const pending = writeFileAtomic(f, big, { mode: 0o640 });
    // Not done yet when it returns: the work happens off the event loop.
    assert.equal(readFileSync(f, 'utf8'), 'old');
    await pending;
    assert.deepEqual(readFileSync(f), big);
    assert.equal(statSync(f).mode & 0o777, 0o640);
    assert.deepEqual(readdirSync(dir), ['state.json']);
  });

  it('the async variant drops its write, leaving the file and no temp file, when it is no longer wanted', async () => {
    const f = join(dir, 'state.json');
    writeFileSync(f, 'newer');
    let asked = 0;
    const done = await writeFileAtomic(f, 'older', { stillWanted: () => (asked++, false) });
    assert.equal(done, false);
    assert.equal(asked, 1);
    assert.equal(readFileSync(f, 'utf8'), 'newer');
    assert.deepEqual(readdirSync(dir), ['state.json']);
    assert.equal(await writeFileAtomic(f, 'wanted', { stillWanted: () => true }), true);
    assert.equal(readFileSync(f, 'utf8'), 'wanted');
  });

  it('creates a missing folder only when asked', async () => {
    const f = join(dir, 'a', 'b', 'file');
    assert.throws(() => writeFileAtomicSync(f, 'x'), /ENOENT/);
    await assert.rejects(writeFileAtomic(f, 'x'), /ENOENT/);
    writeFileAtomicSync(f, 'x', { createDir: true });
    assert.equal(readFileSync(f, 'utf8'), 'x');
    assert.equal(statSync(join(dir, 'a')).mode & 0o777, 0o700);
    rmSync(join(dir, 'a'), { recursive: true });
    await writeFileAtomic(f, 'y', { createDir: true });
    assert.equal(readFileSync(f, 'utf8'), 'y');
  });

  it('removes its temp file when the rename fails', async () => {
    const target = join(dir, 'taken');
    writeFileAtomicSync(join(target, 'inner'), 'x', { createDir: true }); // a non-empty folder cannot be renamed over
    assert.throws(() => writeFileAtomicSync(target, 'y'));
    await assert.rejects(writeFileAtomic(target, 'y'));
    assert.deepEqual(readdirSync(dir), ['taken']);
  });

  it('tolerates file systems that refuse fsync on a folder, and nothing else', () => {
    for (const code of ['EINVAL', 'EISDIR', 'ENOTSUP', 'EOPNOTSUPP', 'EPERM', 'EACCES', 'EBADF'])
      assert.ok(isDirFsyncRefusal(Object.assign(new Error(code), { code })), code);
    for (const err of [Object.assign(new Error('EIO'), { code: 'EIO' }), new Error('plain'), null, undefined])
      assert.equal(isDirFsyncRefusal(err), false);
  });
});
