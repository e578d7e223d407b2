import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installInclude, uninstallInclude, userSshConfig } from '../../../coordinator/sshConfig/include';

describe('ssh-config install / uninstall', () => {
  let dir: string;
  let home: string;
  let vendettaSshConfig: string;
  let config: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-include-'));
    home = join(dir, 'home');
    mkdirSync(home);
    vendettaSshConfig = join(dir, 'vendetta home', 'ssh_config');
    config = userSshConfig(home);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates ~/.ssh (0700) and config (0600) when they are missing', () => {
    const r = installInclude(vendettaSshConfig, config);
    assert.equal(r.changed, true);
    assert.equal(readFileSync(config, 'utf8'), `Include "${vendettaSshConfig}"\n`);
    assert.equal(statSync(join(home, '.ssh')).mode & 0o777, 0o700);
    assert.equal(statSync(config).mode & 0o777, 0o600);
  });

  it('puts the line first, above every Host block, once, keeping the file mode', () => {
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    const mine = '# my config\nHost *\n  ServerAliveInterval 30\n\nHost box\n  HostName 10.1.1.1\n';
    writeFileSync(config, mine);
    chmodSync(config, 0o644);
    const r = installInclude(vendettaSshConfig, config);
    assert.equal(r.changed, true);
    assert.equal(readFileSync(config, 'utf8'), `${r.line}\n${mine}`);
    assert.equal(statSync(config).mode & 0o777, 0o644, 'mode kept');
    const again = installInclude(vendettaSshConfig, config);
    assert.equal(again.changed, false);
    assert.equal(readFileSync(config, 'utf8'), `${r.line}\n${mine}`, 'idempotent');

    // OpenSSH really reads it: a host from the included file resolves.
    mkdirSync(join(dir, 'vendetta home'), { recursive: true });
    writeFileSync(vendettaSshConfig, 'Host ws.local.vendetta\n  User dev\n  Port 2222\n');
    const g = spawnSync('ssh', ['-G', '-F', config, 'ws.local.vendetta'], { encoding: 'utf8' });
    assert.match(g.stdout, /^user dev$/m);
    assert.match(g.stdout, /^port 2222$/m);

    const u = uninstallInclude(vendettaSshConfig, config);
    assert.equal(u.changed, true);
    assert.equal(readFileSync(config, 'utf8'), mine, 'exactly that line removed');
    assert.equal(statSync(config).mode & 0o777, 0o644);
    assert.equal(uninstallInclude(vendettaSshConfig, config).changed, false);
  });

  it('moves a line that sits below a Host block (where it would be conditional) to the top', () => {
    mkdirSync(join(home, '.ssh'));
    const line = installInclude(vendettaSshConfig, join(dir, 'probe')).line;
    writeFileSync(config, `Host box\n  User me\n${line}\n`);
    assert.equal(installInclude(vendettaSshConfig, config).changed, true);
    assert.equal(readFileSync(config, 'utf8'), `${line}\nHost box\n  User me\n`);
  });

  it('writes through a symlinked config to its target, leaving the link', () => {
    mkdirSync(join(home, '.ssh'));
    const target = join(dir, 'dotfiles-ssh-config');
    writeFileSync(target, 'Host x\n');
    symlinkSync(target, config);
    installInclude(vendettaSshConfig, config);
    assert.ok(lstatSync(config).isSymbolicLink());
    assert.match(readFileSync(target, 'utf8'), /^Include /);
  });

  it('leaves a missing config missing on uninstall', () => {
    assert.equal(uninstallInclude(vendettaSshConfig, config).changed, false);
    assert.equal(existsSync(config), false);
  });
});
