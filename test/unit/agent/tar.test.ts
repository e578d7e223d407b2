import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dir } from '../../../agent/fs/beneath';
import { readTar, type TarEntry } from '../../../common/tar/decode';
import { tarBuffer, type TarInput } from '../../../common/tar/encode';
import { tarDirectory } from '../../../agent/tar/directory';
import { encodePax, parsePax } from '../../../common/tar/header';

async function* chunked(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

interface Read {
  path: string;
  type: string;
  mode: number;
  mtimeMs: number;
  linkname: string;
  uid: number;
  data: string;
}

async function readAll(src: AsyncIterable<Buffer>, skipBodies = false): Promise<Read[]> {
  const out: Read[] = [];
  for await (const e of readTar(src)) {
    let data = '';
    if (!skipBodies) for await (const c of e.body()) data += c.toString('utf8');
    out.push({ path: e.path, type: e.type, mode: e.mode, mtimeMs: e.mtimeMs, linkname: e.linkname, uid: e.uid, data });
  }
  return out;
}

const longPath = `${'deep/'.repeat(40)}file-with-a-name-longer-than-a-ustar-header-can-hold.txt`;

describe('the agent reads and writes tar streams', () => {
  const entries: TarInput[] = [
    { path: 'dir/', type: 'directory', mode: 0o755, mtimeMs: 1_700_000_000_000 },
    { path: 'dir/a.txt', type: 'file', mode: 0o640, uid: 1000, mtimeMs: 1_700_000_000_123.5, data: 'hello\n' },
    { path: 'dir/exe', type: 'file', mode: 0o755, mtimeMs: 1_700_000_001_000, data: Buffer.alloc(1300, 7) },
    { path: 'dir/empty', type: 'file', mode: 0o600, mtimeMs: 1_700_000_001_000 },
    { path: 'dir/link', type: 'symlink', mode: 0o777, linkname: 'a.txt', mtimeMs: 1_700_000_001_000 },
    { path: longPath, type: 'file', mode: 0o644, mtimeMs: 1_700_000_002_000, data: 'long' },
    { path: 'ünïcode/ファイル', type: 'file', mode: 0o644, mtimeMs: 1_700_000_002_000, data: 'u' },
  ];

  it('round-trips names, modes, owners, exact mtimes, links and contents, however the bytes are split', async () => {
    const tar = tarBuffer(entries);
    assert.equal(tar.length % 512, 0);
    for (const size of [1, 7, 512, 513, 100_000]) {
      const got = await readAll(chunked(tar, size));
      assert.deepEqual(
        got.map((e) => e.path),
        entries.map((e) => e.path),
      );
      assert.equal(got[1]!.data, 'hello\n');
      assert.equal(got[1]!.mode, 0o640);
      assert.equal(got[1]!.uid, 1000);
      assert.equal(got[1]!.mtimeMs, 1_700_000_000_123.5, 'a PAX mtime keeps the fraction');
      assert.equal(got[2]!.data, Buffer.alloc(1300, 7).toString());
      assert.equal(got[3]!.data, '');
      assert.deepEqual([got[4]!.type, got[4]!.linkname], ['symlink', 'a.txt']);
      assert.equal(got[5]!.data, 'long');
      assert.equal(got[6]!.data, 'u');
    }
  });

  it('skips the content of entries the reader does not read', async () => {
    const got = await readAll(chunked(tarBuffer(entries), 300), true);
    assert.equal(got.length, entries.length);
  });

  it('reads what GNU tar writes (pax and gnu long names), and GNU tar reads what it writes', async function () {
    // Off CI a machine without GNU tar skips this cross-check; under CI it must run.
    if (spawnSync('tar', ['--version']).error && process.env.CI !== 'true') this.skip(); // no GNU tar off CI
    const dir = mkdtempSync(join(tmpdir(), 'vendetta-tar-'));
    try {
      const src = join(dir, 'src');
      mkdirSync(join(src, ...longPath.split('/').slice(0, -1)), { recursive: true });
      writeFileSync(join(src, longPath), 'long');
      writeFileSync(join(src, 'x.sh'), 'echo\n', { mode: 0o755 });
      utimesSync(join(src, 'x.sh'), 1_600_000_000, 1_600_000_000);
      symlinkSync('x.sh', join(src, 'ln'));
      for (const format of ['gnu', 'pax', 'ustar']) {
        const r = spawnSync(
          'tar',
          [`--format=${format}`, '-C', src, '-cf', '-', 'x.sh', 'ln', ...(format === 'ustar' ? [] : [longPath])],
          { maxBuffer: 1 << 24 },
        );
        assert.equal(r.status, 0, r.stderr.toString());
        const got = await readAll(chunked(r.stdout, 1000));
        const byPath = new Map(got.map((e) => [e.path, e]));
        assert.equal(byPath.get('x.sh')?.data, 'echo\n', format);
        assert.equal(byPath.get('x.sh')?.mode, 0o755);
        assert.equal(Math.floor(byPath.get('x.sh')!.mtimeMs / 1000), 1_600_000_000);
        assert.equal(byPath.get('ln')?.linkname, 'x.sh');
        if (format !== 'ustar') assert.equal(byPath.get(longPath)?.data, 'long', format);
      }
      // Our folder archive, listed by GNU tar.
      const chunks: Buffer[] = [];
      for await (const c of tarDirectory(src)) chunks.push(c);
      const listed = spawnSync('tar', ['-tvf', '-'], { input: Buffer.concat(chunks), encoding: 'utf8' });
      assert.equal(listed.status, 0, listed.stderr);
      assert.match(listed.stdout, /^-rwxr-xr-x .* x\.sh$/m);
      assert.match(listed.stdout, /^lrwxrwxrwx .* ln -> x\.sh$/m);
      assert.ok(listed.stdout.includes(longPath), 'long paths survive through PAX');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a truncated stream, a corrupt header and oversized metadata', async () => {
    const tar = tarBuffer(entries);
    await assert.rejects(
      readAll(chunked(tar.subarray(0, 512 + 3), 100)),
      /ended in the middle of the content of dir\/a.txt|ended in the middle/,
    );
    await assert.rejects(readAll(chunked(tar.subarray(0, 700), 100)), /ended in the middle/);
    const bad = Buffer.from(tar);
    bad[10] = bad[10]! ^ 0xff;
    await assert.rejects(readAll(chunked(bad, 512)), /checksum mismatch/);
    await assert.rejects(
      readAll(chunked(Buffer.from('not a tar at all'.repeat(40)), 64)),
      /checksum mismatch|bad number/,
    );
    const hugePax = Buffer.alloc(512);
    hugePax.write('PaxHeader');
    const withHuge = tarBuffer([{ path: 'x', type: 'file', mode: 0o644, data: 'x' }]);
    // Rewrite the first header as a PAX header announcing 2 MiB of records.
    const h = Buffer.from(withHuge.subarray(0, 512));
    h.write('x', 156, 'latin1');
    h.write((2 * 1024 * 1024).toString(8).padStart(11, '0') + '\0', 124, 'latin1');
    h.write('        ', 148, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    await assert.rejects(readAll(chunked(Buffer.concat([h, Buffer.alloc(1024)]), 512)), /larger than/);
  });

  it('ends cleanly at the end marker or at the end of input, and reads a body only once', async () => {
    assert.deepEqual(await readAll(chunked(Buffer.alloc(0), 1)), []);
    assert.deepEqual(await readAll(chunked(Buffer.alloc(1024), 1)), []);
    const it = readTar(chunked(tarBuffer([{ path: 'a', type: 'file', mode: 0o644, data: 'abc' }]), 512));
    const first = (await it.next()).value as TarEntry;
    for await (const _ of first.body()) void _;
    await assert.rejects(async () => {
      for await (const _ of first.body()) void _;
    }, /read once/);
  });

  it('encodes PAX records whose length prefix counts itself', () => {
    for (const value of ['x', 'y'.repeat(5), 'z'.repeat(94), 'w'.repeat(95), 'v'.repeat(996)]) {
      const rec = encodePax({ path: value });
      const len = Number(rec.toString('latin1').split(' ')[0]);
      assert.equal(len, rec.length, `record for a ${value.length}-byte value`);
      assert.equal(parsePax(rec).get('path'), value);
    }
    assert.throws(() => parsePax(Buffer.from('99 path=x\n')), /bad PAX record/);
  });

  it('archives a build context without following a link, even one swapped in after it was opened', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vendetta-tar-'));
    try {
      const ctx = join(dir, 'ctx');
      const secret = join(dir, 'secret');
      mkdirSync(join(ctx, 'sub'), { recursive: true });
      mkdirSync(secret);
      writeFileSync(join(secret, 'shadow'), 'node secret');
      writeFileSync(join(ctx, 'Dockerfile'), 'FROM x\n');
      writeFileSync(join(ctx, 'sub', 'a'), 'a');
      symlinkSync(secret, join(ctx, 'out'));
      symlinkSync(join(secret, 'shadow'), join(ctx, 'sub', 'shadow'));
      execFileSync('mkfifo', [join(ctx, 'fifo')]);
      const held = Dir.openRoot(ctx);
      // The workspace swaps the whole context, and a folder in it, for links to the node's secrets.
      renameSync(ctx, join(dir, 'moved'));
      symlinkSync(secret, ctx);
      renameSync(join(dir, 'moved', 'sub'), join(dir, 'moved', 'sub2'));
      symlinkSync(secret, join(dir, 'moved', 'sub'));
      const chunks: Buffer[] = [];
      for await (const c of tarDirectory(held)) chunks.push(c);
      held.close();
      const got = await readAll(chunked(Buffer.concat(chunks), 4096));
      assert.deepEqual(
        got.map((e) => [e.path, e.type, e.linkname || e.data]),
        [
          ['Dockerfile', 'file', 'FROM x\n'],
          ['out', 'symlink', secret],
          ['sub', 'symlink', secret],
          ['sub2/', 'directory', ''],
          ['sub2/a', 'file', 'a'],
          ['sub2/shadow', 'symlink', join(secret, 'shadow')],
        ],
      );
      assert.ok(!Buffer.concat(chunks).includes('node secret'), 'no byte of the node file is in the archive');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
