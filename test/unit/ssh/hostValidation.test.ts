import assert from 'node:assert/strict';
import { VendettaError } from '../../../coordinator/errors';
import { validateHost, validateTarget } from '../../../coordinator/ssh/hostValidation';

function code(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    assert.ok(err instanceof VendettaError);
    return err.code;
  }
}

describe('refusing hostile hosts, users and names', () => {
  it('accepts DNS names and IP addresses', () => {
    for (const h of [
      'build-1',
      'build-1.example.com',
      'example.com.',
      '10.0.0.1',
      '::1',
      'fe80::1',
      '2001:db8::42',
      'A1.b2',
    ])
      validateHost(h);
  });

  it('refuses option injection, shell metacharacters, whitespace and junk with INVALID_HOST', () => {
    const bad = [
      '-oProxyCommand=touch /tmp/pwned',
      '-p',
      'host;reboot',
      'a&b',
      'a|b',
      '$(id)',
      '`id`',
      'a b',
      'a\tb',
      'a\nb',
      'a\u0000b',
      '',
      'user@host',
      'host:22',
      '[::1]',
      '../x',
      'a,b',
      '-',
      '.',
      'a..b',
      'x'.repeat(300),
      'ho$t',
      "h'x",
      'h"x',
      'h\\x',
      'h*',
      'h?',
    ];
    for (const h of bad)
      assert.equal(
        code(() => validateHost(h)),
        'INVALID_HOST',
        JSON.stringify(h),
      );
  });

  it('says why a host is refused', () => {
    assert.throws(() => validateHost('-oProxyCommand=x'), /starts with "-"/);
    assert.throws(() => validateHost('host;reboot'), /shell or option characters/);
    assert.throws(() => validateHost('a b'), /whitespace/);
  });

  it('checks name, port and user of a whole target', () => {
    const ok = { name: 'build-1', host: '10.0.0.1', port: 22, user: 'dev' };
    validateTarget(ok);
    assert.equal(
      code(() => validateTarget({ ...ok, name: '../x' })),
      'INVALID_NAME',
    );
    assert.equal(
      code(() => validateTarget({ ...ok, name: 'a;b' })),
      'INVALID_NAME',
    );
    assert.equal(
      code(() => validateTarget({ ...ok, port: 0 })),
      'INVALID_PARAMS',
    );
    assert.equal(
      code(() => validateTarget({ ...ok, port: 70000 })),
      'INVALID_PARAMS',
    );
    assert.equal(
      code(() => validateTarget({ ...ok, user: '-oProxyCommand=x' })),
      'INVALID_PARAMS',
    );
    assert.equal(
      code(() => validateTarget({ ...ok, user: 'a b' })),
      'INVALID_PARAMS',
    );
    assert.equal(
      code(() => validateTarget({ ...ok, host: 'host;reboot' })),
      'INVALID_HOST',
    );
  });
});
