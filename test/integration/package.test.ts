import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** Lists a zip's entries with Node alone (the central directory), so the test needs no unzip tool. */
function zipEntries(file: string): string[] {
  const buf = readFileSync(file);
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(eocd >= 0, 'not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let off = buf.readUInt32LE(eocd + 16);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const nameLen = buf.readUInt16LE(off + 28);
    const extraLen = buf.readUInt16LE(off + 30);
    const commentLen = buf.readUInt16LE(off + 32);
    names.push(buf.toString('utf8', off + 46, off + 46 + nameLen));
    off += 46 + nameLen + extraLen + commentLen;
  }
  return names;
}

describe('the packaged extension (.vsix)', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-vsix-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  let out: string;
  let files: string[];

  it('holds only dist/, schemas/, media/, README, CHANGELOG, LICENSE and the manifest', () => {
    out = join(dir, 'vendetta.vsix');
    // The flags of `npm run package`, so the test packages what a release would.
    const script = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
      .scripts.package!;
    const args = script
      .split(/\s+/)
      .slice(1)
      .filter((a, i, all) => a !== '--out' && all[i - 1] !== '--out');
    assert.equal(script.split(/\s+/)[0], 'vsce');
    execFileSync(join(root, 'node_modules/.bin/vsce'), [...args, '--out', out], {
      cwd: root,
      stdio: 'pipe',
    });
    files = zipEntries(out)
      .filter((f) => f.startsWith('extension/'))
      .map((f) => f.slice('extension/'.length));
    const unexpected = files.filter(
      (f) =>
        !/^(dist\/[^/]+\.js|dist\/crypto\/build\/Release\/sshcrypto\.node|schemas\/[^/]+\.json|media\/.+|readme\.md|changelog\.md|LICENSE\.txt|package\.json)$/.test(
          f,
        ),
    );
    assert.deepEqual(unexpected, []);
    for (const need of [
      'dist/extension.js',
      'dist/languageServer.js',
      'dist/vendetta.js',
      'dist/mcp.js',
      'dist/agent.js',
      'schemas/workspace.schema.json',
      'schemas/nodes.schema.json',
      'readme.md',
      'changelog.md',
      'LICENSE.txt',
    ]) {
      assert.ok(files.includes(need), `missing ${need} in ${files.join(', ')}`);
    }
    assert.ok(!files.some((f) => f.endsWith('.map')), 'no source maps');
    // ssh2's native ciphers ride along where npm built them (they load only under a matching Node.js).
    const built = existsSync(join(root, 'node_modules/ssh2/lib/protocol/crypto/build/Release/sshcrypto.node'));
    assert.equal(files.includes('dist/crypto/build/Release/sshcrypto.node'), built);
  });

  it('is under 5 MB', () => {
    const size = statSync(out).size;
    console.log(`      vendetta.vsix: ${(size / 1024).toFixed(0)} KB`);
    assert.ok(size < 5 * 1024 * 1024, `${size} bytes`);
  });

  it("carries the README's screenshots of the view, each image it links to", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    assert.ok(
      images.filter((i) => i.startsWith('media/screenshots/')).length >= 2,
      `screenshots linked from README: ${images.join(', ')}`,
    );
    for (const img of images) {
      assert.ok(files.includes(img), `${img} (linked from README) is in the .vsix`);
      assert.deepEqual([...readFileSync(join(root, img)).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], `${img} is a PNG`);
    }
  });
});
