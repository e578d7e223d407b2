/** What the node-side suite tells the in-host tests (through code-server's environment), and a way to report numbers back. */
import { execFile } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import * as vscode from 'vscode';

export const EXTENSION_ID = 'vendetta-dev.vendetta';

/** A workspace the node side brought up before code-server started, and its services. */
export interface E2eWorkspace {
  name: string;
  node: string;
  services: string[];
}

/** Written by test/e2e/vscodeEnv.ts before code-server starts. */
export interface E2eInfo {
  home: string;
  /** The built CLI the coordinator runs from. */
  cli: string;
  nodes: Array<{ name: string; host: string; user: string; identity: string; fingerprint: string }>;
  /** A workspace already up on nodes[0], with services. */
  workspace?: E2eWorkspace;
  /** examples/hello on LXD (provider lxc), up on the built-in `local` node. */
  lxcWorkspace?: E2eWorkspace;
  /**
   * examples/hello as a QEMU VM on `local`, from the lifecycle suite's QEMU row
   * (test/integration/lifecycleEditor.ts); `enter` is the argv prefix entering the network namespace
   * the coordinator runs in, where its forwarded ports listen.
   */
  qemuWorkspace?: E2eWorkspace & { enter: string[] };
  /**
   * Reopen in Remote Workspace: the folder code-server opened, the config to write there (naming
   * `node`), and the project whose other files to copy in (`source`).
   */
  reopenProject?: { folder: string; name: string; node: string; readme: string; config: string; source: string };
}

export function e2eInfo(): E2eInfo | undefined {
  const file = process.env.VENDETTA_E2E_INFO;
  return file ? (JSON.parse(readFileSync(file, 'utf8')) as E2eInfo) : undefined;
}

/** A measured number, printed by the node side beside the results. */
export function reportMetric(name: string, value: number, unit: string): void {
  const out = process.env.VENDETTA_E2E_RESULTS;
  if (out) appendFileSync(out, JSON.stringify({ metric: name, value: Math.round(value * 10) / 10, unit }) + '\n');
}

export function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not installed in this extension host`);
  return ext;
}

export async function waitFor<T>(
  what: string,
  ms: number,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The node-side harness's facts, or — off CI, when the suite runs without it (desktop VS Code via
 * .vscode-test.mjs) — a one-line skip. Under CI=true a missing harness fails.
 */
export function requireE2eInfo(ctx: Mocha.Context): E2eInfo {
  const info = e2eInfo();
  if (info) return info;
  if (process.env.CI === 'true')
    throw new Error('VENDETTA_E2E_INFO is not set: run this suite through test/e2e/extensionHost.test.ts');
  console.log('      skipped: needs the real nodes and workspace of test/e2e/vscodeEnv.ts (npm run test:e2e)');
  ctx.skip();
}

/** The extension's API (activating it if needed). */
export async function vendettaApi(): Promise<import('../../../extension/activateRemoteNodes').VendettaApi> {
  const ext = extension();
  return (
    ext.isActive ? ext.exports : await ext.activate()
  ) as import('../../../extension/activateRemoteNodes').VendettaApi;
}

/** Runs argv (no shell) and collects its output. */
export function run(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === 'number'
          ? (err as { code: number }).code
          : -1
        : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
