import assert from 'node:assert/strict';
import { reportProxyError, sshProxyArgs } from '../../../coordinator/cli/sshProxy';
import { VendettaError } from '../../../coordinator/errors';

describe('the ssh-proxy fast path reads what OpenSSH passes', () => {
  it('takes the alias with --home and --verbose in any order', () => {
    assert.deepEqual(sshProxyArgs(['hello.local.vendetta']), { alias: 'hello.local.vendetta' });
    assert.deepEqual(sshProxyArgs(['--home', '/h w', 'hello.local.vendetta']), {
      home: '/h w',
      alias: 'hello.local.vendetta',
    });
    assert.deepEqual(sshProxyArgs(['hello.b1.vendetta', '--verbose', '--home', '/h']), {
      alias: 'hello.b1.vendetta',
      verbose: true,
      home: '/h',
    });
  });

  it('leaves anything else to the full parser, which explains it', () => {
    assert.equal(sshProxyArgs([]), undefined);
    assert.equal(sshProxyArgs(['--bogus', 'a.b.vendetta']), undefined);
    assert.equal(sshProxyArgs(['a.b.vendetta', 'extra']), undefined);
    assert.equal(sshProxyArgs(['--home']), undefined);
  });
});

describe("ssh-proxy says a failure on one line, among ssh's own", () => {
  function stderrOf(fn: () => void): string {
    const write = process.stderr.write.bind(process.stderr);
    let out = '';
    process.stderr.write = ((c: string) => ((out += c), true)) as typeof process.stderr.write;
    try {
      fn();
    } finally {
      process.stderr.write = write;
    }
    return out;
  }

  it('puts the hint in parentheses on the error line, without terminal controls; --verbose adds the chain', () => {
    const e = new VendettaError('NODE_UNREACHABLE', 'b1 did not answer\u001b[2J', {
      hint: '`vendetta node test b1` shows which step fails.',
      cause: new Error('connect ECONNREFUSED'),
    });
    assert.equal(
      stderrOf(() => reportProxyError(e, false)),
      'error: b1 did not answer (`vendetta node test b1` shows which step fails)\n',
    );
    assert.equal(
      stderrOf(() => reportProxyError(new VendettaError('INTERNAL', 'no hint'), false)),
      'error: no hint\n',
    );
    const verbose = stderrOf(() => reportProxyError(e, true));
    assert.match(verbose, /^hint: /m);
    assert.match(verbose, /^cause: connect ECONNREFUSED$/m);
  });
});
