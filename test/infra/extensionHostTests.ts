/**
 * Runs the extension-host mocha suite (test/e2e/extensionHost, bundled by esbuild into
 * out/e2e/extensionHost/index.js) inside code-server (TEST-INFRA.md, way 1): Chromium opens the
 * workbench with a payload naming this repository as the extension under development and the
 * bundle as its tests; VS Code reports the suite's outcome through `codeAutomationExit`. Each test's
 * result and every measured number arrive as JSON lines in a results file the host appends to.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import type { BrowserContext } from 'playwright-core';
import type { CodeServer } from './codeServer';

export const REPO = join(__dirname, '..', '..');
export const HOST_TESTS_BUNDLE = join(REPO, 'out', 'e2e', 'extensionHost', 'index.js');

/** The QEMU workspace's in-host tests, run by the lifecycle suite's QEMU row (test/integration/lifecycleEditor.ts). */
export const QEMU_HOST_TESTS_BUNDLE = join(REPO, 'out', 'e2e', 'extensionHost', 'qemu.js');

/** Bundles an entry of test/e2e/extensionHost (default: the e2e suite's index.ts). */
export async function buildExtensionHostTests(entry = 'index.ts', outfile = HOST_TESTS_BUNDLE): Promise<void> {
  await esbuild.build({
    entryPoints: [join(REPO, 'test', 'e2e', 'extensionHost', entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    // The extension host supplies `vscode`; mocha loads from the repository's node_modules.
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
}

export interface InHostTest {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  ms: number;
  error?: string;
}

export interface InHostRun {
  exitCode: number;
  tests: InHostTest[];
  metrics: Array<{ metric: string; value: number; unit: string }>;
  /** What the workbench logged through codeAutomationLog (for failure messages). */
  log: string[];
  ms: number;
}

export interface InHostRunOptions {
  folder: string;
  resultsFile: string;
  timeoutMs?: number;
  /** The bundle VS Code runs as the extension's tests (default: the in-host e2e suite). */
  testsBundle?: string;
  /** A browser context to open the window in (default: a new one of `cs`). */
  browser?: BrowserContext;
}

export async function runExtensionHostTests(cs: CodeServer, opts: InHostRunOptions): Promise<InHostRun> {
  const bundle = opts.testsBundle ?? HOST_TESTS_BUNDLE;
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: build it first`);
  writeFileSync(opts.resultsFile, '');
  const t0 = Date.now();
  const remote = (p: string) => `vscode-remote://127.0.0.1:${cs.port}${p}`;
  const ctx = opts.browser ?? (await cs.browser());
  const page = await ctx.newPage();
  const log: string[] = [];
  let exited: (code: number) => void = () => undefined;
  const exit = new Promise<number>((resolve) => (exited = resolve));
  await page.exposeFunction('codeAutomationExit', (code: number) => exited(code));
  await page.exposeFunction('codeAutomationLog', (level: string, args: unknown[]) => {
    log.push(`${level}: ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`.slice(0, 2000));
  });
  page.on('console', (m) => {
    if (m.type() === 'error') log.push(`console.error: ${m.text().slice(0, 2000)}`);
  });
  const payload: Array<[string, string]> = [
    ['extensionDevelopmentPath', remote(REPO)],
    ['extensionTestsPath', remote(bundle)],
    ['skipWelcome', 'true'],
  ];
  await page.goto(cs.folderUrl(opts.folder, payload), { timeout: 120_000 });
  const timeoutMs = opts.timeoutMs ?? 240_000;
  let timer: NodeJS.Timeout | undefined;
  const exitCode = await Promise.race([
    exit,
    new Promise<number>((resolve) => (timer = setTimeout(() => resolve(-1), timeoutMs))),
  ]);
  clearTimeout(timer);
  await page.close().catch(() => undefined);
  const tests: InHostTest[] = [];
  const metrics: InHostRun['metrics'] = [];
  for (const line of readFileSync(opts.resultsFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line) as InHostTest | InHostRun['metrics'][number];
    if ('metric' in r) metrics.push(r);
    else tests.push(r);
  }
  if (exitCode === -1) log.push(`the extension-host suite did not finish within ${timeoutMs} ms`);
  return { exitCode, tests, metrics, log, ms: Date.now() - t0 };
}
