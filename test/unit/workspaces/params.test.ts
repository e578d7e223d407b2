import assert from 'node:assert/strict';
import { VendettaError } from '../../../coordinator/errors';
import { parseGitSource } from '../../../coordinator/workspaces/gitClone';
import { validateRef, validateRemove, validateUp } from '../../../coordinator/workspaces/handlers';
import { parseAlias, sshAlias, workspaceName } from '../../../coordinator/workspaces/names';
import { remoteCommand } from '../../../coordinator/workspaces/workspaceSsh';

const code = (c: string) => (e: unknown) =>
  e instanceof VendettaError && e.code === c && typeof e.hint === 'string' && e.hint.length > 0;

const HOSTILE = [
  '../x',
  'a;b',
  '-oProxyCommand=x',
  '',
  'a'.repeat(64),
  'UPPER',
  'a b',
  'a/b',
  '$(id)',
  'x\n',
  'a.b',
  '\u001b[2J',
  7,
  null,
  ['a'],
  {},
];

describe('workspace params are validated at the boundary', () => {
  it('refuses hostile workspace names with INVALID_NAME, echoing them escaped', () => {
    for (const bad of HOSTILE) assert.throws(() => workspaceName(bad), code('INVALID_NAME'), JSON.stringify(bad));
    assert.throws(
      () => workspaceName('\u001b[2Jx'),
      (e: VendettaError) => e.message.includes('\\u001b') && /workspace name/.test(e.message),
    );
    for (const good of ['a', 'shop-api', '0', 'a'.repeat(63)]) assert.equal(workspaceName(good), good);
  });

  it('workspaces/up: an absolute path, optional node, provider, name, git and token; nothing else', () => {
    assert.deepEqual(validateUp({ path: '/src/shop/' }), { path: '/src/shop' });
    assert.deepEqual(
      validateUp({
        path: '/src/./shop',
        node: 'build-1',
        provider: 'docker',
        name: 'shop-2',
        git: 'https://e.com/s.git#main',
        progressToken: 't',
      }),
      {
        path: '/src/shop',
        node: 'build-1',
        provider: 'docker',
        name: 'shop-2',
        git: 'https://e.com/s.git#main',
        progressToken: 't',
      },
    );
    assert.throws(() => validateUp({ path: 'relative/dir' }), code('INVALID_PARAMS'));
    assert.throws(() => validateUp({ path: '/a\0b' }), code('INVALID_PARAMS'));
    assert.throws(() => validateUp({}), code('INVALID_PARAMS'));
    assert.throws(() => validateUp({ path: '/a', provider: 'kubernetes' }), code('INVALID_PARAMS'));
    assert.throws(() => validateUp({ path: '/a', node: '-oProxyCommand=x' }), code('INVALID_NAME'));
    for (const bad of HOSTILE)
      assert.throws(() => validateUp({ path: '/a', name: bad }), code('INVALID_NAME'), JSON.stringify(bad));
    assert.throws(() => validateUp({ path: '/a', shell: 'rm -rf /' }), code('INVALID_PARAMS'));
    assert.throws(() => validateUp({ path: '/a', git: '--upload-pack=touch /tmp/x' }), code('INVALID_PARAMS'));
    assert.throws(() => validateUp('/a'), code('INVALID_PARAMS'));
  });

  it('status/start/stop/remove: a name and maybe a node and force', () => {
    assert.deepEqual(validateRef({ name: 'w' }, 'workspaces/inspect'), { name: 'w' });
    assert.deepEqual(validateRef({ name: 'w', node: 'n' }, 'workspaces/inspect'), { name: 'w', node: 'n' });
    assert.throws(() => validateRef({ name: 'w', force: true }, 'workspaces/inspect'), code('INVALID_PARAMS'));
    assert.deepEqual(validateRemove({ name: 'w', force: true }), { name: 'w', force: true });
    assert.deepEqual(validateRemove({ name: 'w', force: false }), { name: 'w' });
    assert.throws(() => validateRemove({ name: 'w', force: 'yes' }), code('INVALID_PARAMS'));
    assert.throws(() => validateRemove({ name: '../../etc' }), code('INVALID_NAME'));
  });

  it('reads ssh aliases <ws>.<node>.vendetta, and nothing else', () => {
    assert.equal(sshAlias('shop', 'build-1'), 'shop.build-1.vendetta');
    assert.deepEqual(parseAlias('shop.build-1.vendetta'), { name: 'shop', node: 'build-1' });
    assert.deepEqual(parseAlias('Shop.Local.Vendetta'), { name: 'shop', node: 'local' }, 'OpenSSH lowercases %h');
    for (const bad of [
      'shop.vendetta',
      'a.b.c.vendetta',
      'shop.local',
      '-o.local.vendetta',
      'a;b.local.vendetta',
      '.local.vendetta',
      'a..vendetta',
      `${'a'.repeat(300)}.b.vendetta`,
      42,
    ]) {
      assert.throws(() => parseAlias(bad), code('INVALID_NAME'), JSON.stringify(bad));
    }
  });

  it('reads --git URL[#REF] and refuses options and odd refs', () => {
    assert.deepEqual(parseGitSource('https://example.com/shop.git'), { url: 'https://example.com/shop.git' });
    assert.deepEqual(parseGitSource('git@example.com:team/shop.git#v1.2'), {
      url: 'git@example.com:team/shop.git',
      ref: 'v1.2',
    });
    assert.deepEqual(parseGitSource('file:///srv/git/shop.git#feature/x'), {
      url: 'file:///srv/git/shop.git',
      ref: 'feature/x',
    });
    for (const bad of [
      '-u',
      '--upload-pack=evil',
      'ext::sh -c touch% /tmp/x',
      'https://e.com/a b',
      'https://e.com/s.git#-x',
      'https://e.com/s.git#a..b',
      'https://e.com/s.git#',
      '',
      'shop',
    ]) {
      assert.throws(() => parseGitSource(bad), code('INVALID_PARAMS'), bad);
    }
  });

  it('sends exec argv to the workspace shell as quoted words, in the workspace folder', () => {
    assert.equal(remoteCommand(['ls', '-la'], '/workspaces/w'), 'cd /workspaces/w && exec ls -la');
    assert.equal(remoteCommand(['sh', '-c', 'echo $HOME; exit 42']), `exec sh -c 'echo $HOME; exit 42'`);
    assert.equal(remoteCommand(['printf', "it's"], '/w s'), `cd '/w s' && exec printf 'it'\\''s'`);
  });
});
