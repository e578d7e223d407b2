import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  blockAliases,
  configPath,
  hasBlock,
  removeBlock,
  renderBlock,
  upsertBlock,
  type HostBlock,
} from '../../../coordinator/sshConfig/blocks';
import { SshConfigFile } from '../../../coordinator/sshConfig/sshConfigFile';

function block(alias: string, home = '/home/u/.vendetta'): HostBlock {
  return {
    alias,
    user: 'root',
    identityFile: `${home}/keys/workspace_ed25519`,
    knownHostsFile: `${home}/known_hosts`,
    proxyCommand: ['/usr/bin/node', '/opt/vendetta/dist/vendetta.js', 'ssh-proxy', '--home', home],
  };
}

/** What OpenSSH itself makes of a config for a host (`ssh -G`: parse only, no connection). */
function sshG(file: string, host: string): Map<string, string> {
  const r = spawnSync('ssh', ['-G', '-F', file, host], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0 && !out.has(line.slice(0, sp))) out.set(line.slice(0, sp), line.slice(sp + 1));
  }
  return out;
}

describe('the generated ssh_config', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-sshcfg-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is read by OpenSSH exactly as meant, even with spaces, quotes and % in the paths', () => {
    const home = join(dir, "my home 100% it's");
    const file = join(dir, 'ssh_config');
    writeFileSync(file, upsertBlock('', block('shop.build-1.vendetta', home)));
    const g = sshG(file, 'shop.build-1.vendetta');
    assert.equal(g.get('user'), 'root');
    assert.equal(g.get('hostname'), 'shop.build-1.vendetta');
    // ssh -G prints IdentityFile and ProxyCommand before %-expansion, UserKnownHostsFile after.
    assert.equal(g.get('identityfile'), `${home}/keys/workspace_ed25519`.replace(/%/g, '%%'));
    assert.equal(g.get('identitiesonly'), 'yes');
    assert.equal(g.get('userknownhostsfile'), `${home}/known_hosts`);
    assert.equal(g.get('stricthostkeychecking'), 'true');
    assert.equal(g.get('hostkeyalias'), 'shop.build-1.vendetta');
    assert.equal(g.get('serveraliveinterval'), '15');
    // Expanded the way ssh does (%h, %%), each word is still exactly one shell word.
    const proxy = (g.get('proxycommand') ?? '').replace(/%(.)/g, (_m, c: string) =>
      c === 'h' ? 'shop.build-1.vendetta' : c === '%' ? '%' : `%${c}`,
    );
    const argv = spawnSync('sh', ['-c', `for a in ${proxy}; do printf '%s\\n' "$a"; done`], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n');
    assert.deepEqual(argv, [
      '/usr/bin/node',
      '/opt/vendetta/dist/vendetta.js',
      'ssh-proxy',
      '--home',
      home,
      'shop.build-1.vendetta',
    ]);
  });

  it("forwards neither the agent nor X11 unless the workspace opted in, over a user's `Host *` that says yes", () => {
    const ours = join(dir, 'ssh_config');
    writeFileSync(
      ours,
      upsertBlock(upsertBlock('', block('plain.local.vendetta')), {
        ...block('agent.local.vendetta'),
        forwardAgent: true,
      }),
    );
    // As ~/.ssh/config reads once `vendetta ssh-config install` put the Include at its top.
    const user = join(dir, 'user_config');
    writeFileSync(user, `Include ${ours}\n\nHost *\n  ForwardAgent yes\n  ForwardX11 yes\n  ForwardX11Trusted yes\n`);
    const plain = sshG(user, 'plain.local.vendetta');
    assert.equal(plain.get('forwardagent'), 'no');
    assert.equal(plain.get('forwardx11'), 'no');
    const agent = sshG(user, 'agent.local.vendetta');
    assert.equal(agent.get('forwardagent'), 'yes');
    assert.equal(agent.get('forwardx11'), 'no');
    assert.equal(
      sshG(user, 'elsewhere.example').get('forwardagent'),
      'yes',
      "the user's other hosts keep their setting",
    );
  });

  it('adds and removes one block without touching the others or a hand-written one', () => {
    const hand = '# mine\nHost jump\n  HostName 10.0.0.1\n  User me\n';
    let text = upsertBlock(hand, block('a.local.vendetta'));
    text = upsertBlock(text, block('b.local.vendetta'));
    text = upsertBlock(text, { ...block('a.local.vendetta'), user: 'dev' });
    assert.deepEqual(blockAliases(text), ['jump', 'a.local.vendetta', 'b.local.vendetta']);
    assert.ok(text.startsWith(hand));
    assert.equal(text.match(/User dev/g)?.length, 1, 'a.local replaced in place');
    const removed = removeBlock(text, 'a.local.vendetta');
    assert.deepEqual(blockAliases(removed), ['jump', 'b.local.vendetta']);
    assert.ok(removed.includes(renderBlock(block('b.local.vendetta')).trimEnd()));
    assert.equal(
      removeBlock(removeBlock(removed, 'b.local.vendetta'), 'b.local.vendetta'),
      hand,
      'back to the hand-written text',
    );
    assert.ok(!hasBlock(removed, 'a.local.vendetta'));
    assert.ok(
      !hasBlock('Host a.local.vendetta b.local.vendetta\n', 'a.local.vendetta'),
      'a multi-host line is not ours',
    );
  });

  it('refuses what it cannot write safely', () => {
    assert.throws(() => renderBlock(block('-oProxyCommand=x.local.vendetta')), /cannot be written/);
    assert.throws(() => renderBlock(block('a.b.c.vendetta')), /cannot be written/);
    assert.throws(() => renderBlock({ ...block('a.local.vendetta'), user: 'x y' }), /cannot be written/);
    assert.throws(() => configPath('/a"b'), /cannot be written/);
    assert.throws(() => configPath('/a\nHost *'), /cannot be written/);
    assert.throws(
      () => renderBlock({ ...block('a.local.vendetta'), proxyCommand: ['/bin/x\nHost *'] }),
      /cannot be written/,
    );
    assert.equal(configPath('/plain/path'), '/plain/path');
    assert.equal(configPath('/with space/%h'), '"/with space/%%h"');
  });

  it('is written atomically as a 0600 file, and only when it changes', () => {
    const f = new SshConfigFile(join(dir, 'sub', 'ssh_config'));
    f.upsert(block('a.local.vendetta'));
    assert.equal(statSync(f.file).mode & 0o777, 0o600);
    const before = statSync(f.file).ino;
    f.upsert(block('a.local.vendetta'));
    assert.equal(statSync(f.file).ino, before, 'unchanged content is not rewritten');
    assert.ok(f.has('a.local.vendetta'));
    assert.equal(f.remove('a.local.vendetta'), true);
    assert.equal(f.remove('a.local.vendetta'), false);
    assert.ok(!f.has('a.local.vendetta'));
  });
});
