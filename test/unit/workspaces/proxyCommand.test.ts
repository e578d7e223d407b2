import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { proxyCommandArgv } from '../../../coordinator/home';

describe('the ProxyCommand of generated Host blocks', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vendetta-proxycmd-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the small ssh-proxy bundle when it sits beside the CLI', () => {
    writeFileSync(join(dir, 'ssh-proxy.js'), '');
    assert.deepEqual(proxyCommandArgv('/h/home 1', [join(dir, 'none'), dir], '/x/vendetta.js'), [
      process.execPath,
      join(dir, 'ssh-proxy.js'),
      '--home',
      '/h/home 1',
    ]);
  });

  it('falls back to `vendetta.js ssh-proxy` where the small bundle was not shipped', () => {
    assert.deepEqual(proxyCommandArgv('/h', [dir], '/x/vendetta.js'), [
      process.execPath,
      '/x/vendetta.js',
      'ssh-proxy',
      '--home',
      '/h',
    ]);
  });

  it('the built ssh-proxy bundle explains its arguments when OpenSSH did not start it', () => {
    const [, bundle] = proxyCommandArgv('/h');
    assert.ok(bundle?.endsWith('ssh-proxy.js'), `npm test builds dist/ssh-proxy.js first: ${bundle}`);
    const r = spawnSync(process.execPath, [bundle!, '--nope'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: ssh-proxy \[--home DIR\] \[--verbose\] ALIAS/);
    const bad = spawnSync(process.execPath, [bundle!, '--home', dir, 'x;id.local.vendetta'], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /Not a workspace host/);
  });
});
