import assert from 'node:assert/strict';
import Mocha from 'mocha';
import { buildExtensionHostTests, runExtensionHostTests, type InHostRun } from '../infra/extensionHostTests';
import { requireVscodeEnv, vscodeEnv } from './vscodeEnv';

/**
 * The extension-host suite (test/e2e/extensionHost) run by mocha inside code-server's real
 * extension host, against real nodes and a real coordinator (./vscodeEnv.ts); each in-host test
 * is replayed here as a test of its own, so each counts in the totals.
 */
describe('the extension host in code-server', function () {
  let result: InHostRun;

  before(async function () {
    this.timeout(900_000);
    requireVscodeEnv(this);
    await buildExtensionHostTests();
    const env = await vscodeEnv();
    console.log(`      set-up: ${JSON.stringify(env.timings)}`);
    result = await runExtensionHostTests(env.cs, { folder: env.folder, resultsFile: env.resultsFile });
    console.log(`      in-host suite: ${result.ms} ms`);
    for (const m of result.metrics)
      console.log(`      measured in the extension host: ${m.metric} ${m.value} ${m.unit}`);
    const suite = this.test!.parent!;
    for (const t of result.tests) {
      suite.addTest(
        new Mocha.Test(t.title, function (this: Mocha.Context) {
          if (t.state === 'pending') this.skip();
          if (t.state === 'failed') throw new Error(t.error ?? 'failed in the extension host');
        }),
      );
    }
  });

  it('the in-host suite ran to the end and its exit code agrees with its tests', () => {
    assert.ok(result.tests.length > 0, `no in-host test reported:\n${result.log.slice(-40).join('\n')}`);
    const failed = result.tests.filter((t) => t.state === 'failed').length;
    assert.equal(
      result.exitCode,
      failed ? 1 : 0,
      `exit code ${result.exitCode} with ${failed} failed:\n${result.log.slice(-40).join('\n')}`,
    );
  });
});
