import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';
import { createCliHome, type CliHome } from '../integration/coordinatorHarness';
import { startCodeServer, type CodeServer } from '../infra/codeServer';
import { buildExtensionHostTests, runExtensionHostTests, type InHostRun } from '../infra/extensionHostTests';
import { requireCommands } from '../infra/sys';

/**
 * The extension-host suite (test/e2e/extensionHost) run by mocha inside code-server's real
 * extension host; each in-host test is replayed here as a test of its own.
 */
describe('the extension host in code-server', function () {
  let h: CliHome | undefined;
  let cs: CodeServer | undefined;
  let result: InHostRun;

  before(async function () {
    this.timeout(600_000);
    requireCommands(this, 'the VS Code end-to-end suite', ['chromium', 'rg']);
    h = createCliHome();
    const folder = join(h.dir, 'projects', 'e2e');
    mkdirSync(folder, { recursive: true });
    const info = join(h.dir, 'e2e-info.json');
    writeFileSync(info, JSON.stringify({ home: h.home, cli: join(h.dir, 'bin', 'vendetta.js'), nodes: [] }));
    await buildExtensionHostTests();
    const resultsFile = join(h.dir, 'e2e-results.jsonl');
    cs = await startCodeServer({
      env: { VENDETTA_HOME: h.home, VENDETTA_E2E_INFO: info, VENDETTA_E2E_RESULTS: resultsFile },
      settings: { 'vendetta.home': h.home },
    });
    result = await runExtensionHostTests(cs, { folder, resultsFile });
    console.log(`      code-server: install ${cs.installMs} ms, start ${cs.startMs} ms; in-host suite ${result.ms} ms`);
    for (const m of result.metrics) console.log(`      measured in the extension host: ${m.metric} ${m.value} ${m.unit}`);
    const suite = this.test!.parent!;
    for (const t of result.tests) {
      const test = new Mocha.Test(t.title, function (this: Mocha.Context) {
        if (t.state === 'pending') this.skip();
        if (t.state === 'failed') throw new Error(t.error ?? 'failed in the extension host');
      });
      suite.addTest(test);
    }
  });

  after(async function () {
    this.timeout(60_000);
    await cs?.stop();
    await h?.cleanup();
  });

  it('the in-host suite ran to the end and its exit code agrees with its tests', () => {
    assert.ok(result.tests.length > 0, `no in-host test reported:\n${result.log.slice(-40).join('\n')}`);
    const failed = result.tests.filter((t) => t.state === 'failed').length;
    assert.equal(result.exitCode, failed ? 1 : 0, `exit code ${result.exitCode} with ${failed} failed:\n${result.log.slice(-40).join('\n')}`);
  });
});
