import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VendettaError } from '../../../coordinator/errors';
import { pathInFolder } from '../../../coordinator/mcp/folderPaths';
import {
  listScript,
  parseListing,
  readScript,
  refusal,
  REFUSED,
  writeScript,
} from '../../../coordinator/mcp/folderScripts';

const outside = (e: VendettaError) =>
  e.code === 'INVALID_PARAMS' &&
  e.details?.reason === 'PATH_OUTSIDE' &&
  /outside the workspace folder/.test(e.message) &&
  !!e.hint;

describe('file tools keep to the workspace folder', () => {
  it('accepts relative paths and absolute ones inside the folder, normalised', () => {
    assert.equal(pathInFolder('/workspaces/app', 'src/a.ts'), '/workspaces/app/src/a.ts');
    assert.equal(pathInFolder('/workspaces/app/', './src/../b'), '/workspaces/app/b');
    assert.equal(pathInFolder('/workspaces/app', '.'), '/workspaces/app');
    assert.equal(pathInFolder('/workspaces/app', '/workspaces/app/x/'), '/workspaces/app/x');
    assert.equal(pathInFolder('/', 'etc'), '/etc');
  });

  it('refuses .. out of it, absolute paths elsewhere, a sibling with the same prefix, and NUL bytes', () => {
    for (const p of ['..', '../x', 'a/../../x', '/etc/passwd', '/workspaces/app2/x', '/workspaces', 'x\0y']) {
      assert.throws(() => pathInFolder('/workspaces/app', p), outside, JSON.stringify(p));
    }
  });

  describe('the scripts that resolve symlinks where the files are (run here with the real sh and realpath)', () => {
    let dir: string;
    let root: string;
    const sh = (line: string, input?: string) => spawnSync('sh', ['-c', line], { input: Buffer.from(input ?? '') });

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'vendetta-mcp-folder-'));
      root = join(dir, 'project');
      mkdirSync(join(root, 'src'), { recursive: true });
      writeFileSync(join(root, 'src', 'a.txt'), 'hello\n');
      writeFileSync(join(dir, 'secret'), 'outside\n');
      mkdirSync(join(dir, 'elsewhere'));
      symlinkSync(join(dir, 'secret'), join(root, 'to-secret'));
      symlinkSync(join(dir, 'elsewhere'), join(root, 'to-elsewhere'));
      symlinkSync('src', join(root, 'to-src'));
      symlinkSync(join(dir, 'nowhere'), join(root, 'dangling'));
      writeFileSync(join(root, 'it\'s a "name" $(x)'), 'q');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('reads a file (size line, then bytes), also through a link that stays inside', () => {
      const r = sh(readScript(root, join(root, 'to-src', 'a.txt'), 100));
      assert.equal(r.status, 0, r.stderr.toString());
      assert.equal(r.stdout.toString().replace(/^ *6\n/, ''), 'hello\n');
      assert.equal(
        sh(readScript(root, join(root, 'src', 'a.txt'), 2))
          .stdout.toString()
          .replace(/^ *6\n/, ''),
        'he',
      );
      assert.equal(
        sh(readScript(root, join(root, 'it\'s a "name" $(x)'), 10)).status,
        0,
        'hostile names stay arguments',
      );
    });

    it('refuses links that resolve outside, with the place they lead to', () => {
      const r = sh(readScript(root, join(root, 'to-secret'), 100));
      assert.equal(r.status, REFUSED.OUTSIDE);
      assert.equal(r.stdout.length, 0, 'nothing read');
      const e = refusal(r.status, 'to-secret', root, 'a file', r.stderr.toString())!;
      assert.match(e.message, new RegExp(`symlink to ${join(dir, 'secret')}`));
      assert.equal(sh(listScript(root, join(root, 'to-elsewhere'), 1, 10)).status, REFUSED.OUTSIDE);
      assert.equal(sh(readScript(root, join(root, 'to-elsewhere', 'x'), 10)).status, REFUSED.MISSING);
    });

    it('writes only where the resolved target is inside, making missing folders', () => {
      assert.equal(sh(writeScript(root, join(root, 'new', 'deep', 'f.txt')), 'data').status, 0);
      assert.equal(readFileSync(join(root, 'new', 'deep', 'f.txt'), 'utf8'), 'data');
      for (const p of ['to-secret', 'to-elsewhere/planted', 'dangling', 'dangling/planted']) {
        const r = sh(writeScript(root, join(root, p)), 'pwned');
        assert.equal(r.status, REFUSED.OUTSIDE, p);
      }
      assert.equal(readFileSync(join(dir, 'secret'), 'utf8'), 'outside\n');
      assert.equal(existsSync(join(dir, 'elsewhere', 'planted')), false);
      assert.equal(existsSync(join(dir, 'nowhere')), false);
      assert.equal(
        sh(writeScript(root, join(root, 'src')), 'x').status,
        REFUSED.WRONG_KIND,
        'a folder is not overwritten',
      );
      assert.equal(sh(writeScript(root, join(root, 'src', 'a.txt', 'x')), 'x').status, REFUSED.NO_PARENT);
    });

    it('lists entries with type, size and link target, NUL-separated, capped', () => {
      const r = sh(listScript(root, root, 2, 100));
      assert.equal(r.status, 0, r.stderr.toString());
      const entries = parseListing(r.stdout);
      assert.deepEqual(
        entries.find((e) => e.path === 'src/a.txt'),
        { path: 'src/a.txt', type: 'file', size: 6 },
      );
      assert.equal(entries.find((e) => e.path === 'to-secret')?.target, join(dir, 'secret'));
      assert.equal(entries.find((e) => e.path === 'src')?.type, 'dir');
      assert.equal(parseListing(sh(listScript(root, root, 1, 2)).stdout).length, 2);
      assert.equal(sh(listScript(root, join(root, 'src', 'a.txt'), 1, 10)).status, REFUSED.WRONG_KIND);
      assert.equal(sh(readScript(join(dir, 'gone'), join(dir, 'gone', 'x'), 1)).status, REFUSED.NO_FOLDER);
    });

    it('turns each refusal into an error with a hint; other exit codes are not ours', () => {
      for (const code of Object.values(REFUSED)) {
        const e = refusal(code, 'p', root, 'a folder', '')!;
        assert.ok(e.message && e.hint, String(code));
      }
      assert.match(refusal(REFUSED.WRONG_KIND, 'p', root, 'a file to write', '')!.message, /it is a folder/);
      assert.equal(refusal(1, 'p', root, 'a file', ''), undefined);
      assert.equal(refusal(null, 'p', root, 'a file', ''), undefined);
    });
  });
});
