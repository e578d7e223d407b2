import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { shellCommand, shellQuote, shScript } from '../../../coordinator/ssh/shellQuote';

/** What `sh -c` sees as its argv after parsing `line` (printed NUL-separated by printf). */
function parsedBy(shell: string, line: string): string[] {
  const r = spawnSync(shell, ['-c', `set -- ${line}; for a in "$@"; do printf '%s\\0' "$a"; done`], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\0').slice(0, -1);
}

const NASTY = [
  '',
  'plain',
  'with space',
  "it's",
  "''",
  '"double"',
  '$HOME',
  '$(touch /tmp/pwned)',
  '`id`',
  'a;reboot',
  'a&&b||c',
  '-oProxyCommand=touch /tmp/pwned',
  '~root',
  '=cmd',
  '*',
  'glob?[a]',
  'new\nline',
  'tab\there',
  '\\backslash\\',
  '!bang',
  '{a,b}',
  'ünïcödé ✓',
  'mixed \'single\' and "double" and $var and `cmd`',
];

describe('quoting arguments for the node shell', () => {
  it('leaves plain words alone and quotes everything else', () => {
    assert.equal(shellQuote('agent.js'), 'agent.js');
    assert.equal(
      shellQuote('/home/u/.vendetta-agent/0.1.0-abc/agent.js'),
      '/home/u/.vendetta-agent/0.1.0-abc/agent.js',
    );
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote('a b'), "'a b'");
    assert.equal(shellQuote("it's"), "'it'\\''s'");
    assert.equal(shellQuote('~root'), "'~root'");
    assert.equal(shellQuote('=x'), "'=x'");
  });

  for (const shell of ['sh', 'bash']) {
    it(`every hostile string reaches ${shell} as exactly one unchanged argument`, () => {
      for (const s of NASTY) {
        assert.deepEqual(parsedBy(shell, shellQuote(s)), [s], `for ${JSON.stringify(s)}`);
      }
      assert.deepEqual(parsedBy(shell, shellCommand(NASTY)), NASTY);
    });
  }

  it('refuses a NUL byte, which no shell argument can hold', () => {
    assert.throws(() => shellQuote('a\0b'), /NUL/);
    assert.throws(() => shellCommand([]), /empty/);
  });

  it('runs a script under sh with its arguments as $1…, never pasted into the script', () => {
    const marker = `/tmp/vendetta-pwned-${process.pid}`;
    const line = shScript('printf "%s|" "$@"', [`$(touch ${marker})`, 'a b', "'"]);
    const r = spawnSync('bash', ['-c', line], { encoding: 'utf8' });
    assert.equal(r.stdout, `$(touch ${marker})|a b|'|`);
    assert.equal(spawnSync('test', ['-e', marker]).status, 1, 'the command substitution must not have run');
  });
});
