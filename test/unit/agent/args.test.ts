import assert from 'node:assert/strict';
import { parseArgs, USAGE } from '../../../agent/cli/args';

describe('the agent command line', () => {
  it('knows attach, daemon, version and help', () => {
    for (const [argv, command] of [[['attach'], 'attach'], [['daemon'], 'daemon'], [['version'], 'version'], [['--version'], 'version'], [['--help'], 'help'], [['-h'], 'help'], [['help'], 'help']] as const) {
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
    for (const word of ['attach', 'daemon', 'version', 'VENDETTA_AGENT_HOME']) assert.ok(USAGE.includes(word), word);
  });
});
