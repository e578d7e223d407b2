import assert from 'node:assert/strict';
import { validateAddNode } from '../../../coordinator/daemon/handlers';
import * as v from '../../../coordinator/daemon/validate';
import type { VendettaError } from '../../../coordinator/errors';

const code = (c: string) => (e: VendettaError) => e.code === c && typeof e.hint === 'string' && e.hint.length > 0;

describe('coordinator params are validated at the boundary', () => {
  it('refuses hostile or malformed node names with INVALID_NAME and a hint', () => {
    for (const bad of [
      '../x',
      'a;b',
      '-oProxyCommand=x',
      '',
      'a'.repeat(300),
      'UPPER',
      'a b',
      'a/b',
      '$(id)',
      'x\n',
      7,
      null,
      ['a'],
    ]) {
      assert.throws(() => v.nodeName(bad), code('INVALID_NAME'), JSON.stringify(bad));
    }
    for (const good of ['a', 'build-1', '0', 'a'.repeat(63)]) assert.equal(v.nodeName(good), good);
    assert.throws(() => v.nodeName('a'.repeat(64)), code('INVALID_NAME'));
  });

  it('refuses hosts that are options or shell text with INVALID_HOST', () => {
    for (const bad of [
      '-oProxyCommand=touch /tmp/pwned',
      'host;reboot',
      '',
      'a b',
      '$(reboot)',
      'host`id`',
      'a..b',
      '-h',
      'x'.repeat(254),
      42,
    ]) {
      assert.throws(() => v.host(bad), code('INVALID_HOST'), JSON.stringify(bad));
    }
    assert.equal(v.host('build-1.example.com'), 'build-1.example.com');
    assert.equal(v.host('10.77.0.11'), '10.77.0.11');
    assert.equal(v.host('fd00::5'), 'fd00::5');
    assert.equal(v.host('[fd00::5]'), 'fd00::5');
  });

  it('escapes what it echoes, so a hostile value cannot write to the terminal', () => {
    assert.throws(
      () => v.nodeName('\u001b[2Jx'),
      (e: VendettaError) => e.message.includes('\\u001b'),
    );
  });

  it('checks ports, users, identities and fingerprints', () => {
    for (const bad of [0, 65536, 1.5, '22', -1]) assert.throws(() => v.port(bad), code('INVALID_PARAMS'));
    assert.equal(v.port(2222), 2222);
    for (const bad of ['-oFoo', 'a b', '', 'x'.repeat(40)]) assert.throws(() => v.user(bad), code('INVALID_PARAMS'));
    assert.throws(() => v.identityPath('relative/key'), code('INVALID_PARAMS'));
    assert.throws(() => v.identityPath('/a\0b'), code('INVALID_PARAMS'));
    assert.equal(v.identityPath('/home/dev/.ssh/id_ed25519'), '/home/dev/.ssh/id_ed25519');
    const fp = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';
    assert.equal(v.fingerprint(fp), fp);
    assert.equal(v.fingerprint(`${fp}=`), fp);
    for (const bad of ['MD5:aa:bb', 'SHA256:short', fp + 'xx'])
      assert.throws(() => v.fingerprint(bad), code('INVALID_PARAMS'));
  });

  it('refuses params that are not an object, or carry unknown fields', () => {
    assert.throws(() => v.paramsObject([1, 2], 'nodes/test', ['name']), code('INVALID_PARAMS'));
    assert.throws(() => v.paramsObject('x', 'nodes/test', ['name']), code('INVALID_PARAMS'));
    assert.throws(
      () => v.paramsObject({ name: 'a', extra: 1 }, 'nodes/test', ['name']),
      (e: VendettaError) => e.code === 'INVALID_PARAMS' && e.message.includes('extra'),
    );
    assert.deepEqual(v.paramsObject(undefined, 'nodes/list', []), {});
  });

  it('validates a whole nodes/add request', () => {
    const ok = validateAddNode({
      name: 'b1',
      host: '10.0.0.1',
      port: 2222,
      user: 'dev',
      acceptNewHostKey: true,
      install: false,
      labels: { rack: 'a' },
      progressToken: 't',
    });
    assert.deepEqual(ok, {
      name: 'b1',
      host: '10.0.0.1',
      port: 2222,
      user: 'dev',
      acceptNewHostKey: true,
      install: false,
      labels: { rack: 'a' },
      progressToken: 't',
    });
    assert.throws(
      () =>
        validateAddNode({
          name: 'b1',
          host: 'h',
          hostKeyFingerprint: 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s',
          acceptNewHostKey: true,
        }),
      code('INVALID_PARAMS'),
    );
    assert.throws(() => validateAddNode({ name: 'b1' }), code('INVALID_HOST'));
    assert.throws(() => validateAddNode({ host: 'h' }), code('INVALID_NAME'));
    assert.throws(() => validateAddNode({ name: 'b1', host: 'h', install: 'yes' }), code('INVALID_PARAMS'));
    assert.throws(() => validateAddNode({ name: 'b1', host: 'h', labels: { 'bad key': 'x' } }), code('INVALID_PARAMS'));
  });
});
