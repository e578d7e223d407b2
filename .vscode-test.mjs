#!/usr/bin/env node
// The extension-host suite (test/e2e/extensionHost) in desktop VS Code through
// @vscode/test-electron, where VS Code can be downloaded: `node .vscode-test.mjs [VERSION]`.
// On machines that cannot reach VS Code's update host, `npm run test:e2e` runs the same suite
// in code-server (test/e2e/extensionHost.test.ts), together with the real nodes and workspace
// the node-side harness sets up; here those in-host tests say they need it and skip.
import { runTests } from '@vscode/test-electron';
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('.', import.meta.url).pathname;
const version = process.argv[2] ?? '1.100.3';

if (spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' }).status !== 0) process.exit(1);
await esbuild.build({
  entryPoints: [join(root, 'test/e2e/extensionHost/index.ts')],
  outfile: join(root, 'out/e2e/extensionHost/index.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: 'inline',
  external: ['vscode', 'mocha'],
  logLevel: 'warning',
});

const dir = mkdtempSync(join(tmpdir(), 'vendetta-vscode-test-'));
const folder = join(dir, 'folder');
const results = join(dir, 'results.jsonl');
mkdirSync(folder);
let code = 0;
try {
  await runTests({
    version,
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'out/e2e/extensionHost/index.js'),
    launchArgs: [
      folder,
      '--disable-extensions',
      '--disable-workspace-trust',
      '--skip-welcome',
      '--user-data-dir',
      join(dir, 'user-data'),
    ],
    extensionTestsEnv: { VENDETTA_HOME: join(dir, 'home'), VENDETTA_E2E_RESULTS: results },
  });
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  code = 1;
}
try {
  const lines = readFileSync(results, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  const tests = lines.filter((l) => !l.metric);
  for (const m of lines.filter((l) => l.metric)) console.log(`measured: ${m.metric} ${m.value} ${m.unit}`);
  const count = (s) => tests.filter((t) => t.state === s).length;
  console.log(
    `${count('passed')} passed, ${count('failed')} failed${count('pending') ? `, ${count('pending')} skipped` : ''}`,
  );
} catch {
  // no results: VS Code did not start; the error is printed above
}
rmSync(dir, { recursive: true, force: true });
process.exit(code);
