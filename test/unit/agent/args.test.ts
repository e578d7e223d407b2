import assert from 'node:assert/strict';
import { parseArgs, USAGE } from '../../../agent/cli/args';

describe('the agent command line', () => {
  it('knows attach, daemon, version and help', () => {
    for (const [argv, command] of [
      [['attach'], 'attach'],
      [['daemon'], 'daemon'],
      [['version'], 'version'],
      [['--version'], 'version'],
      [['--help'], 'help'],
      [['-h'], 'help'],
      [['help'], 'help'],
    ] as const) {
      assert.deepEqual(parseArgs(argv), { ok: true, command });
    }
  });

  it('refuses anything else with a reason', () => {
    assert.deepEqual(parseArgs([]), { ok: false, error: 'missing command' });
    assert.deepEqual(parseArgs(['-oProxyCommand=x']), { ok: false, error: 'unknown command "-oProxyCommand=x"' });
    assert.deepEqual(parseArgs(['attach', '--now']), { ok: false, error: 'attach takes no arguments, got "--now"' });
    assert.equal(parseArgs(['constructor']).ok, false);
  });

  it('documents every command and the home variable', () => {
    for (const word of ['attach', 'daemon', 'version', 'sync-receive', 'VENDETTA_AGENT_HOME'])
      assert.ok(USAGE.includes(word), word);
  });

  it('takes exactly one valid workspace name for sync-receive', () => {
    assert.deepEqual(parseArgs(['sync-receive', 'shop']), { ok: true, command: 'sync-receive', workspace: 'shop' });
    assert.deepEqual(parseArgs(['sync-receive']), {
      ok: false,
      error: 'sync-receive takes one argument, the workspace name',
    });
    assert.equal(parseArgs(['sync-receive', 'a', 'b']).ok, false);
    for (const bad of ['../x', '-oX', 'A', ''])
      assert.deepEqual(parseArgs(['sync-receive', bad]), {
        ok: false,
        error: `not a workspace name: ${JSON.stringify(bad)}`,
      });
  });
});
