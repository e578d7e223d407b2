/**
 * The VS Code side of a VM workspace, checked on the lifecycle suite's own running VM (a TCG boot
 * costs minutes, so this check boots none): code-server 4.100.3 with headless Chromium
 * (test/infra/codeServer.ts, as the e2e suite starts it) on the row's VENDETTA_HOME, whose
 * extension host runs test/e2e/extensionHost/qemu.host.ts against the coordinator the row's CLI
 * calls started. code-server and Chromium end by pid when the case ends, also on failure (and a
 * run that was killed is cleared by the next start).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ForwardInfo } from '../../coordinator/protocol';
import { startCodeServer } from '../infra/codeServer';
import {
  buildExtensionHostTests,
  QEMU_HOST_TESTS_BUNDLE,
  runExtensionHostTests,
  type InHostRun,
} from '../infra/extensionHostTests';
import { requireCommands } from '../infra/sys';
import type { E2eInfo } from '../e2e/extensionHost/hostEnv';
import type { LifecycleRun } from './lifecycleRun';

/** The in-host tests' results, with the workbench's last log lines, for the workspace `name` on `local`. */
export async function editorRun(t: LifecycleRun, name: string): Promise<InHostRun> {
  const { env } = t;
  await buildExtensionHostTests('qemuIndex.ts', QEMU_HOST_TESTS_BUNDLE);
  const dir = mkdtempSync(join(env.h.dir, 'editor-'));
  const folder = join(dir, 'folder');
  mkdirSync(folder);
  const info: E2eInfo = {
    home: env.h.home,
    cli: join(env.h.dir, 'bin', 'vendetta.js'),
    nodes: [],
    qemuWorkspace: { name, node: 'local', services: ['db', 'api', 'web'], enter: env.nsenter },
  };
  const infoFile = join(dir, 'e2e-info.json');
  writeFileSync(infoFile, JSON.stringify(info, null, 2));
  const resultsFile = join(dir, 'e2e-results.jsonl');
  const cs = await startCodeServer({
    env: {
      VENDETTA_HOME: env.h.home,
      VENDETTA_E2E_INFO: infoFile,
      VENDETTA_E2E_RESULTS: resultsFile,
      SSH_AUTH_SOCK: '',
      // This run's grep names the lifecycle suite's cases, not the in-host ones.
      VENDETTA_TEST_GREP: '',
    },
    settings: { 'vendetta.home': env.h.home },
  });
  try {
    return await runExtensionHostTests(cs, {
      folder,
      resultsFile,
      testsBundle: QEMU_HOST_TESTS_BUNDLE,
      timeoutMs: 480_000,
    });
  } finally {
    await cs.stop();
    await stopForwards(t);
  }
}

/** Ends the forwards the editor made (they outlive its window), so the suite's own forward cases start from none. */
async function stopForwards(t: LifecycleRun): Promise<void> {
  const list = await t.env.cli(['workspace', 'forwards', '--json']);
  assert.equal(list.code, 0, `workspace forwards: ${list.stderr}`);
  for (const f of JSON.parse(list.stdout) as ForwardInfo[]) {
    const stop = await t.env.cli(['workspace', 'forward', f.workspace, String(f.port), '--node', f.node, '--stop']);
    assert.equal(stop.code, 0, `workspace forward ${f.workspace} ${f.port} --stop: ${stop.stderr}`);
  }
}

/** One case: each in-host test's outcome (and error) is in the failure message when one fails. */
export function vmEditorCase(t: LifecycleRun): void {
  it('in a real VS Code (code-server, headless Chromium) the Remote Nodes tree shows the VM running with its services healthy; Show Logs and Forward Port on it work', async function () {
    this.timeout(600_000);
    requireCommands(this, `the VS Code check of the ${t.provider.name} workspace`, ['chromium', 'rg']);
    const t0 = Date.now();
    const r = await editorRun(t, 'hello');
    t.numbers.editorCheckMs = Date.now() - t0;
    for (const m of r.metrics) t.numbers[`editor: ${m.metric} (${m.unit})`] = m.value;
    const lines = r.tests.map((x) => `${x.state}: ${x.title}${x.error ? `\n${x.error}` : ''}`).join('\n');
    const log = r.log.slice(-30).join('\n');
    assert.equal(r.tests.length, 3, `the three in-host tests reported:\n${lines}\n${log}`);
    assert.deepEqual(
      r.tests.filter((x) => x.state !== 'passed').map((x) => x.title),
      [],
      `every in-host test passed:\n${lines}`,
    );
    assert.equal(r.exitCode, 0, `the in-host suite's exit code:\n${log}`);
  });
}
