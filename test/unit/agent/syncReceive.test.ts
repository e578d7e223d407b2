import assert from 'node:assert/strict';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../../agent/errors';
import { SYNC_HEADER_ENTRY } from '../../../agent/protocol';
import { parseSyncHeader, receiveSync } from '../../../agent/sync/receive';
import { checkSymlinkTarget, relativeSegments } from '../../../agent/sync/safePath';
import { tarBuffer, type TarInput } from '../../../common/tar/encode';
import { NodeFolder } from '../../../agent/sync/scan';

const header = (del: string[] = []): TarInput => ({
  path: SYNC_HEADER_ENTRY,
  type: 'file',
  mode: 0o600,
  data: JSON.stringify({ delete: del }),
});
const file = (path: string, data: string, extra: Partial<TarInput> = {}): TarInput => ({
  path,
  type: 'file',
  mode: 0o644,
  mtimeMs: 1_700_000_000_000,
  data,
  ...extra,
});

async function* once(buf: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += 777) yield buf.subarray(i, i + 777);
}

/** A tar whose first header has its type flag replaced (device, fifo…). */
function withTypeflag(entries: TarInput[], index: number, flag: string): Buffer {
  const tar = tarBuffer(entries);
  let off = 0;
  for (let i = 0; i < index; i++) {
    const size = parseInt(tar.subarray(off + 124, off + 136).toString('latin1'), 8);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  tar.write(flag, off + 156, 1, 'latin1');
  tar.write('        ', off + 148, 'latin1');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += tar[off + i]!;
  tar.write(sum.toString(8).padStart(6, '0') + '\0 ', off + 148, 'latin1');
  return tar;
}

describe('sync-receive applies a project stream to the node folder', () => {
  let base: string;
  let root: string;
  let outside: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'vendetta-sync-'));
    root = join(base, 'src');
    outside = join(base, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  async function refuse(entries: TarInput[] | Buffer, pattern: RegExp): Promise<void> {
    const tar = Buffer.isBuffer(entries) ? entries : tarBuffer(entries);
    await assert.rejects(receiveSync(root, once(tar)), (err: unknown) => {
      assert.ok(err instanceof AgentError, String(err));
      assert.equal(err.code, 'SYNC_REFUSED');
      assert.match(err.message, pattern);
      return true;
    });
    assert.deepEqual(readdirSync(outside), [], 'nothing was written outside the folder');
  }

  it('writes files, folders and links with their modes and mtimes, and counts them', async () => {
    const summary = await receiveSync(
      root,
      once(
        tarBuffer([
          header(),
          { path: './', type: 'directory', mode: 0o755 },
          { path: 'src/', type: 'directory', mode: 0o750, mtimeMs: 1_600_000_000_000 },
          file('src/main.ts', 'console.log(1)\n', { mtimeMs: 1_700_000_000_123.456 }),
          file('bin/run', '#!/bin/sh\n', { mode: 0o755 }),
          { path: 'link', type: 'symlink', mode: 0o777, linkname: 'src/main.ts' },
          { path: 'up', type: 'symlink', mode: 0o777, linkname: './bin/run' },
          { path: 'hard', type: 'hardlink', mode: 0o644, linkname: 'bin/run' },
          file(`deep/${'d/'.repeat(60)}f`, 'deep'),
        ]),
      ),
    );
    assert.deepEqual(summary, { written: 6, deleted: 0, bytes: 15 + 10 + 4 });
    assert.equal(readFileSync(join(root, 'src/main.ts'), 'utf8'), 'console.log(1)\n');
    assert.equal(Math.abs(statSync(join(root, 'src/main.ts')).mtimeMs - 1_700_000_000_123.456) < 0.01, true);
    assert.equal(statSync(join(root, 'bin/run')).mode & 0o777, 0o755);
    assert.equal(statSync(join(root, 'src')).mode & 0o777, 0o750);
    assert.equal(statSync(join(root, 'src')).mtimeMs, 1_600_000_000_000, 'folder mtimes are set after their contents');
    assert.equal(readlinkSync(join(root, 'link')), 'src/main.ts');
    assert.equal(statSync(join(root, 'hard')).ino, statSync(join(root, 'bin/run')).ino);
    const folder = new NodeFolder(root);
    const kinds = await Promise.all(
      ['bin/run', `deep/${'d/'.repeat(60)}f`, 'hard', 'link', 'src/main.ts', 'up'].map(
        async (p) => (await folder.entry(p)).kind,
      ),
    );
    assert.deepEqual(kinds, ['file', 'file', 'file', 'symlink', 'file', 'symlink']);
    assert.deepEqual((await folder.entry('bin/run')).stat?.mtimeMs, 1_700_000_000_000);
    folder.close();
    assert.equal(
      readdirSync(join(root, 'src')).some((n) => n.startsWith('.vendetta-sync')),
      false,
      'no temp files left',
    );
  });

  it('deletes first, then replaces files by folders and folders by files', async () => {
    await receiveSync(
      root,
      once(
        tarBuffer([
          header(),
          file('a/x', '1'),
          file('b', '2'),
          file('gone', '3'),
          { path: 'ln', type: 'symlink', mode: 0o777, linkname: 'b' },
        ]),
      ),
    );
    const touched: string[] = [];
    const summary = await receiveSync(
      root,
      once(
        tarBuffer([
          header(['gone', './ln', 'never-there', 'a']),
          { path: 'b/', type: 'directory', mode: 0o755 },
          file('a', 'now a file'),
          file('./b/inner', 'now a folder'),
        ]),
      ),
      undefined,
      (p) => touched.push(p),
    );
    assert.deepEqual(summary, { written: 2, deleted: 3, bytes: 22 });
    // What a copy of the folder (a VM without a share) is told: every path deleted or written, as a/b.
    assert.deepEqual(touched, ['gone', 'ln', 'never-there', 'a', 'a', 'b/inner']);
    assert.equal(readFileSync(join(root, 'a'), 'utf8'), 'now a file');
    assert.equal(readFileSync(join(root, 'b/inner'), 'utf8'), 'now a folder');
    assert.equal(existsSync(join(root, 'gone')), false);
    assert.equal(existsSync(join(root, 'ln')), false);
  });

  it('replaces a symlink in the way instead of writing through it', async () => {
    writeFileSync(join(outside, 'target'), 'precious');
    symlinkSync(join(outside, 'target'), join(root, 'f'));
    await receiveSync(root, once(tarBuffer([header(), file('f', 'new')])));
    assert.equal(lstatSync(join(root, 'f')).isSymbolicLink(), false);
    assert.equal(readFileSync(join(outside, 'target'), 'utf8'), 'precious');
    rmSync(join(outside, 'target'));
  });

  it('refuses absolute paths, "..", and links that leave the folder', async () => {
    await refuse([header(), file('/etc/evil', 'x')], /absolute path/);
    await refuse([header(), file('../outside/evil', 'x')], /contains "\.\."/);
    await refuse([header(), file('a/../../outside/evil', 'x')], /contains "\.\."/);
    await refuse(
      [header(), { path: 'l', type: 'symlink', mode: 0o777, linkname: '/etc/passwd' }],
      /symlink to the absolute path/,
    );
    await refuse(
      [header(), { path: 'a/l', type: 'symlink', mode: 0o777, linkname: '../../outside' }],
      /outside the project/,
    );
    await refuse(
      [header(), { path: 'l', type: 'symlink', mode: 0o777, linkname: 'a/../../x' }],
      /goes back up after going down/,
    );
    await refuse([header(), { path: 'h', type: 'hardlink', mode: 0o644, linkname: '../outside/x' }], /contains "\.\."/);
    await refuse([header(), { path: 'h', type: 'hardlink', mode: 0o644, linkname: '/etc/passwd' }], /absolute path/);
    await refuse(
      [header(), { path: 'h', type: 'hardlink', mode: 0o644, linkname: 'no/such/file' }],
      /not a file in the project/,
    );
    symlinkSync(outside, join(root, 'out'));
    await refuse(
      [header(), { path: 'h', type: 'hardlink', mode: 0o644, linkname: 'out/x' }],
      /not a file in the project/,
    );
    await refuse(
      [header(), { path: 'h', type: 'hardlink', mode: 0o644, linkname: 'out' }],
      /not a file in the project/,
    );
    await refuse([header(['../outside'])], /contains "\.\."/);
    await refuse([header(['/etc/passwd'])], /absolute path/);
    await refuse([header(['.'])], /project root itself/);
  });

  it('never goes through a symlinked folder, one the stream made itself or one the workspace left: it is replaced', async () => {
    // A link to the root itself passes a naive check, and "d/../x" from it would escape.
    await receiveSync(
      root,
      once(
        tarBuffer([
          header(),
          { path: 'd', type: 'symlink', mode: 0o777, linkname: '.' },
          { path: 'd/l', type: 'symlink', mode: 0o777, linkname: '../x' },
        ]),
      ),
    );
    assert.ok(lstatSync(join(root, 'd')).isDirectory(), 'the link d became a real folder');
    assert.equal(readlinkSync(join(root, 'd/l')), '../x');
    symlinkSync(outside, join(root, 'evil'));
    await receiveSync(root, once(tarBuffer([header(['evil/anything']), file('evil/planted', 'x')])));
    assert.ok(lstatSync(join(root, 'evil')).isDirectory());
    assert.equal(readFileSync(join(root, 'evil/planted'), 'utf8'), 'x');
    // A delete below a link deletes nothing: there is nothing of the project there.
    symlinkSync(outside, join(root, 'evil2'));
    writeFileSync(join(outside, 'anything'), 'node file');
    const summary = await receiveSync(root, once(tarBuffer([header(['evil2/anything'])])));
    assert.equal(summary.deleted, 0);
    assert.equal(readFileSync(join(outside, 'anything'), 'utf8'), 'node file');
    rmSync(join(outside, 'anything'));
    // Even a link that stays inside is not gone through.
    mkdirSync(join(root, 'real'));
    symlinkSync('real', join(root, 'alias'));
    await receiveSync(root, once(tarBuffer([header(), file('alias/x', 'ok')])));
    assert.equal(readFileSync(join(root, 'alias/x'), 'utf8'), 'ok');
    assert.deepEqual(readdirSync(join(root, 'real')), []);
  });

  it('drops setuid, setgid and sticky bits from files and folders', async () => {
    await receiveSync(
      root,
      once(
        tarBuffer([
          header(),
          { path: 'd/', type: 'directory', mode: 0o3777 },
          file('d/suid', '#!/bin/sh\n', { mode: 0o6755 }),
        ]),
      ),
    );
    assert.equal(statSync(join(root, 'd/suid')).mode & 0o7777, 0o755);
    assert.equal(statSync(join(root, 'd')).mode & 0o7777, 0o777);
  });

  it('deletes a folder the workspace filled with links and deep folders, without following any', async () => {
    writeFileSync(join(outside, 'keep'), 'node file');
    let deep = join(root, 'gone');
    for (let i = 0; i < 50; i++) {
      deep = join(deep, 'd');
      mkdirSync(deep, { recursive: true });
      symlinkSync(outside, join(deep, 'out'));
    }
    const summary = await receiveSync(root, once(tarBuffer([header(['gone'])])));
    assert.equal(summary.deleted, 1);
    assert.equal(existsSync(join(root, 'gone')), false);
    assert.deepEqual(readdirSync(outside), ['keep']);
  });

  it('opens a folder afresh when the workspace deleted the one it held between two entries', async () => {
    const tar = tarBuffer([header(), file('a/x', '1'), file('a/y', '2')]);
    async function* racing(): AsyncGenerator<Buffer> {
      yield tar.subarray(0, 2048); // the header and a/x
      rmSync(join(root, 'a'), { recursive: true });
      yield tar.subarray(2048);
    }
    assert.deepEqual(await receiveSync(root, racing()), { written: 2, deleted: 0, bytes: 2 });
    assert.deepEqual(readdirSync(join(root, 'a')), ['y']);
  });

  it('refuses devices and fifos, streams without the header first, and broken streams', async () => {
    await refuse(withTypeflag([header(), file('dev', '')], 1, '3'), /tar type "3"/);
    await refuse(withTypeflag([header(), file('fifo', '')], 1, '6'), /tar type "6"/);
    await refuse([file('a', 'x'), header()], /first entry must be \.vendetta-sync\.json/);
    await refuse(
      [{ path: SYNC_HEADER_ENTRY, type: 'file', mode: 0o600, data: '{"delete": "x"}' }],
      /must be \{"delete": \[paths\]\}/,
    );
    await refuse(Buffer.alloc(0), /it is empty/);
    await refuse(
      tarBuffer([header(), file('big', 'x'.repeat(5000))]).subarray(0, 2048),
      /ended in the middle of the content of big/,
    );
    await refuse(Buffer.from('GET / HTTP/1.1\r\n'.repeat(64)), /checksum mismatch|bad number/);
    assert.equal(existsSync(join(root, 'big')), false, 'a cut file is not left half written');
    assert.deepEqual(
      readdirSync(root).filter((n) => n.startsWith('.vendetta-sync')),
      [],
    );
  });

  it('checks paths and link targets as text before touching the disk', () => {
    assert.deepEqual(relativeSegments('./a/./b/'), ['a', 'b']);
    for (const bad of ['', '.', './', '/a', 'a//b', 'a/..', 'a\0b']) assert.throws(() => relativeSegments(bad));
    checkSymlinkTarget('x/l', '../y', 'x');
    checkSymlinkTarget('l', './y/z', '');
    assert.throws(() => checkSymlinkTarget('l', '', ''), /empty target/);
    assert.throws(() => checkSymlinkTarget('l', '..', ''), /outside/);
    assert.deepEqual(parseSyncHeader('{"delete":[]}'), { delete: [] });
    assert.throws(() => parseSyncHeader('nope'), /is not JSON/);
    assert.throws(() => parseSyncHeader('{"delete":[1]}'), /must be/);
  });
});
