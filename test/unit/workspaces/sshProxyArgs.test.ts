import assert from 'node:assert/strict';
import { sshProxyArgs } from '../../../coordinator/cli/sshProxy';

describe('the ssh-proxy fast path reads what OpenSSH passes', () => {
  it('takes the alias with --home and --verbose in any order', () => {
    assert.deepEqual(sshProxyArgs(['hello.local.vendetta']), { alias: 'hello.local.vendetta' });
    assert.deepEqual(sshProxyArgs(['--home', '/h w', 'hello.local.vendetta']), { home: '/h w', alias: 'hello.local.vendetta' });
    assert.deepEqual(sshProxyArgs(['hello.b1.vendetta', '--verbose', '--home', '/h']), { alias: 'hello.b1.vendetta', verbose: true, home: '/h' });
  });

  it('leaves anything else to the full parser, which explains it', () => {
    assert.equal(sshProxyArgs([]), undefined);
    assert.equal(sshProxyArgs(['--bogus', 'a.b.vendetta']), undefined);
    assert.equal(sshProxyArgs(['a.b.vendetta', 'extra']), undefined);
    assert.equal(sshProxyArgs(['--home']), undefined);
  });
});
