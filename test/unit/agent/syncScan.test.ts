import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYNC_READ_MAX_BYTES, type NodeStatKey } from '../../../agent/protocol';
import { readEntry, scanEntries } from '../../../agent/sync/scan';
import { validateReadParams, validateScanParams } from '../../../agent/handlers/sync';

const tick = () => new Promise((r) => setTimeout(r, 20));
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const key = (p: string): NodeStatKey => {
  const st = statSync(p);
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode };
};

describe('the node answers which synced paths the workspace changed, without walking or following links', () => {
  let base: string;
  let root: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'vendetta-scan-'));
    root = join(base, 'root');
    mkdirSync(join(root, 'src'), { recursive: true });
    mkdirSync(join(base, 'outside'));
    writeFileSync(join(base, 'outside', 'secret'), 'node file');
    writeFileSync(join(root, 'src', 'a.ts'), 'a');
    writeFileSync(join(root, 'run'), '#!/bin/sh\n', { mode: 0o755 });
    symlinkSync('src/a.ts', join(root, 'link'));
    symlinkSync(join(base, 'outside'), join(root, 'planted'));
    writeFileSync(join(root, 'file-not-folder'), 'x');
    mkdirSync(join(root, 'made-inside'));
    execFileSync('mkfifo', [join(root, 'fifo')]);
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('names what is at each path by content, and calls a path through a link or a file blocked', async () => {
    const paths = [
      'src/a.ts',
      'run',
      'link',
      'planted/secret',
      'file-not-folder/x',
      'made-inside',
      'fifo',
      'missing',
      'missing-dir/x',
    ];
    const changes = await scanEntries(
      root,
      paths.map((path) => ({ path })),
    );
    const got = Object.fromEntries(changes.map((c) => [paths[c.i], [c.kind, c.id]]));
    assert.deepEqual(got, {
      'src/a.ts': ['file', `f:${sha('a')}`],
      run: ['file', `x:${sha('#!/bin/sh\n')}`],
      link: ['symlink', `l:${sha('src/a.ts')}`],
      'planted/secret': ['blocked', 'b'],
      'file-not-folder/x': ['blocked', 'b'],
      'made-inside': ['folder', 'd'],
      fifo: ['special', 'o'],
    });
  });

  it('reads a file only when its stat moved, and reports a rewrite with the same bytes as a stat alone', async () => {
    const file = join(root, 'src', 'a.ts');
    // A wrong id with the right stat: trusted without reading, so no change.
    assert.deepEqual(await scanEntries(root, [{ path: 'src/a.ts', id: 'f:not-read', stat: key(file) }]), []);
    const before = key(file);
    await tick(); // file times move in clock ticks of a few ms
    writeFileSync(file, 'a'); // same bytes, same size: the ctime moves
    const same = await scanEntries(root, [{ path: 'src/a.ts', id: `f:${sha('a')}`, stat: before }]);
    assert.deepEqual(
      same.map((c) => [c.kind, c.id, c.stat?.ctimeMs === key(file).ctimeMs]),
      [[undefined, undefined, true]],
    );
    await tick();
    writeFileSync(file, 'b');
    const changed = await scanEntries(root, [{ path: 'src/a.ts', id: `f:${sha('a')}`, stat: before }]);
    assert.deepEqual(
      changed.map((c) => [c.i, c.kind, c.id]),
      [[0, 'file', `f:${sha('b')}`]],
    );
    rmSync(file);
    assert.deepEqual(
      await scanEntries(root, [{ path: 'src/a.ts', id: `f:${sha('b')}` }]),
      [{ i: 0 }],
      'gone: neither kind nor id',
    );
  });

  it('hands over one file for a diff, capped, and never through a link', async () => {
    assert.deepEqual(await readEntry(root, 'src/a.ts'), {
      kind: 'file',
      content: Buffer.from('a').toString('base64'),
      encoding: 'base64',
      size: 1,
    });
    assert.deepEqual(await readEntry(root, 'link'), { kind: 'symlink', content: 'src/a.ts', encoding: 'utf8' });
    assert.deepEqual(await readEntry(root, 'planted/secret'), { kind: 'blocked' });
    assert.deepEqual(await readEntry(root, 'fifo'), { kind: 'special' });
    assert.deepEqual(await readEntry(root, 'nothing'), {});
    writeFileSync(join(root, 'big'), Buffer.alloc(SYNC_READ_MAX_BYTES + 1));
    assert.deepEqual(await readEntry(root, 'big'), { kind: 'file', size: SYNC_READ_MAX_BYTES + 1 });
  });

  it('refuses paths that leave the folder, oversized pages and malformed stats at the boundary', () => {
    for (const path of ['../x', '/etc/passwd', 'a//b', '']) {
      assert.throws(() => validateScanParams({ name: 'w', entries: [{ path }] }), /INVALID_PARAMS|Invalid params/);
      assert.throws(() => validateReadParams({ name: 'w', path }), /Invalid params/);
    }
    assert.throws(
      () => validateScanParams({ name: 'w', entries: Array.from({ length: 2001 }, () => ({ path: 'a' })) }),
      /at most 2000/,
    );
    assert.throws(
      () => validateScanParams({ name: 'w', entries: [{ path: 'a', stat: { size: 1 } }] }),
      /stat must hold/,
    );
    assert.deepEqual(
      validateScanParams({
        name: 'w',
        entries: [{ path: 'a', id: 'f:1', stat: { size: 1, mtimeMs: 2, ctimeMs: 3, ino: 4, mode: 5, extra: 6 } }],
      }).entries,
      [{ path: 'a', id: 'f:1', stat: { size: 1, mtimeMs: 2, ctimeMs: 3, ino: 4, mode: 5 } }],
    );
  });
});
