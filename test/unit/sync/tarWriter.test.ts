import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { statFiles } from '../../../coordinator/sync/fileList';
import { entryHeader } from '../../../common/tar/encode';
import { encodePax, splitUstarPath } from '../../../common/tar/header';
import { tarStream, type TarEntry } from '../../../coordinator/sync/tarWriter';

async function collect(entries: TarEntry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  await pipeline(
    tarStream(entries),
    new Writable({
      write(chunk: Buffer, _e, cb) {
        parts.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

function tar(args: string[], input: Buffer): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('tar', args, { input, encoding: 'buffer' });
  return { status: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

describe('the sync tar stream, read by GNU tar', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-tar-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('holds every file with its bytes, mode, mtime and symlinks, long and non-ASCII names included', async () => {
    const src = join(dir, 'src');
    const long = `${'deep/'.repeat(30)}file-with-a-long-name-${'x'.repeat(120)}.txt`;
    const files: Record<string, Buffer> = {
      'README.md': Buffer.from('# hello\n'),
      empty: Buffer.alloc(0),
      'bin/run.sh': Buffer.from('#!/bin/sh\necho hi\n'),
      exactly512: Buffer.alloc(512, 7),
      'big.bin': Buffer.alloc(300_000, 0xab),
      'ünïcødé/naïve.txt': Buffer.from('unicode\n'),
      [long]: Buffer.from('long path\n'),
    };
    for (const [p, data] of Object.entries(files)) {
      mkdirSync(join(src, p, '..'), { recursive: true });
      writeFileSync(join(src, p), data);
    }
    const fractional = new Date(1_700_000_000_123);
    utimesSync(join(src, 'README.md'), fractional, fractional);
    const whole = new Date(1_600_000_000_000);
    utimesSync(join(src, 'empty'), whole, whole);
    spawnSync('chmod', ['755', join(src, 'bin/run.sh')]);
    symlinkSync('../README.md', join(src, 'bin/readme-link'));
    const local = await statFiles(src, [...Object.keys(files), 'bin/readme-link']);
    const archive = await collect(
      local.map((f) => ({
        path: f.path,
        kind: f.kind,
        size: f.size,
        mode: f.mode,
        mtimeMs: f.mtimeMs,
        mtimeNs: f.mtimeNs,
        linkTarget: f.linkTarget,
        source: f.abs,
      })),
    );
    assert.equal(archive.length % 512, 0);

    const listed = tar(['-t'], archive);
    assert.equal(listed.status, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n').sort(), [...Object.keys(files), 'bin/readme-link'].sort());

    const out = join(dir, 'out');
    mkdirSync(out);
    const x = tar(['-x', '-C', out, '--no-same-owner'], archive);
    assert.equal(x.status, 0, x.stderr);
    for (const [p, data] of Object.entries(files)) assert.ok(readFileSync(join(out, p)).equals(data), p);
    assert.equal(statSync(join(out, 'bin/run.sh')).mode & 0o777, 0o755);
    assert.equal(readlinkSync(join(out, 'bin/readme-link')), '../README.md');
    assert.ok(lstatSync(join(out, 'bin/readme-link')).isSymbolicLink());
    // GNU tar keeps the pax mtime's fraction; whole seconds stay whole.
    assert.equal(
      statSync(join(out, 'README.md'), { bigint: true }).mtimeNs,
      statSync(join(src, 'README.md'), { bigint: true }).mtimeNs,
    );
    assert.equal(Math.round(statSync(join(out, 'README.md')).mtimeMs), 1_700_000_000_123);
    assert.equal(statSync(join(out, 'empty')).mtimeMs, 1_600_000_000_000);
  });

  it('writes exactly the announced size when a file shrinks or grows while it is read', async () => {
    const f = join(dir, 'f');
    writeFileSync(f, Buffer.alloc(1000, 1));
    const shrunk = collect([{ path: 'f', kind: 'file', size: 5000, mode: 0o644, mtimeMs: 0, source: f }]);
    const archive = await shrunk;
    const out = join(dir, 'out');
    mkdirSync(out);
    assert.equal(tar(['-x', '-C', out], archive).status, 0);
    const got = readFileSync(join(out, 'f'));
    assert.equal(got.length, 5000);
    assert.ok(got.subarray(0, 1000).equals(Buffer.alloc(1000, 1)) && got.subarray(1000).equals(Buffer.alloc(4000)));

    writeFileSync(f, Buffer.alloc(9000, 2));
    const grown = await collect([
      { path: 'f', kind: 'file', size: 100, mode: 0o644, mtimeMs: 0, source: f },
      { path: 'g', kind: 'file', size: 2, mode: 0o644, mtimeMs: 0, source: Buffer.from('ok') },
    ]);
    const out2 = join(dir, 'out2');
    mkdirSync(out2);
    assert.equal(tar(['-x', '-C', out2], grown).status, 0);
    assert.equal(readFileSync(join(out2, 'f')).length, 100);
    assert.equal(readFileSync(join(out2, 'g'), 'utf8'), 'ok', 'the next entry is intact');
    truncateSync(f, 0);
  });

  it('splits ustar paths at a slash, and needs pax beyond what ustar holds', () => {
    assert.deepEqual(splitUstarPath('a/b'), { prefix: '', name: 'a/b' });
    const p = `${'d'.repeat(150)}/${'n'.repeat(90)}`;
    assert.deepEqual(splitUstarPath(p), { prefix: 'd'.repeat(150), name: 'n'.repeat(90) });
    assert.equal(splitUstarPath('x'.repeat(101)), undefined, 'no slash to split at');
    assert.equal(splitUstarPath(`${'d'.repeat(156)}/n`), undefined, 'prefix too long');
    assert.deepEqual(splitUstarPath(`${'é'.repeat(60)}/x`), { prefix: 'é'.repeat(60), name: 'x' }, 'counted in bytes');
    const plain = entryHeader({ path: 'a', type: 'file', size: 1, mode: 0o644, mtimeMs: 1000 });
    assert.equal(plain.length, 512);
    assert.equal(plain.subarray(257, 263).toString('latin1'), 'ustar\0');
    const withPax = entryHeader({ path: 'a', type: 'file', size: 1, mode: 0o644, mtimeMs: 1500 });
    assert.equal(withPax.length, 512 * 3, 'pax header, its records, then the entry');
    assert.equal(withPax[156], 'x'.charCodeAt(0));
    assert.match(withPax.subarray(512, 1024).toString('latin1'), /^\d+ mtime=1\.5\n/);
    const nanos = entryHeader({
      path: 'a',
      type: 'file',
      size: 1,
      mode: 0o644,
      mtimeMs: 1500,
      mtimeNs: 1_500_000_001n,
    });
    assert.match(nanos.subarray(512, 1024).toString('latin1'), /^\d+ mtime=1\.500000001\n/);
    const longLink = entryHeader({ path: 'l', type: 'symlink', mode: 0o777, mtimeMs: 1000, linkname: 'x'.repeat(150) });
    assert.match(longLink.subarray(512, 1024).toString('latin1'), new RegExp(`^\\d+ linkpath=${'x'.repeat(150)}\n`));
  });

  it('makes pax records whose length counts itself, across digit boundaries', () => {
    for (const n of [1, 80, 89, 90, 91, 95, 96, 97, 98, 99, 100, 990, 995, 996, 997, 1000]) {
      const r = encodePax({ path: 'v'.repeat(n) });
      const len = Number(r.toString('latin1').slice(0, r.indexOf(' ')));
      assert.equal(r.length, len, `value of ${n}`);
    }
  });
});
