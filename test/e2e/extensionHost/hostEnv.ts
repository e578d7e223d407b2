/** What the node-side suite tells the in-host tests (through code-server's environment), and a way to report numbers back. */
import { appendFileSync, readFileSync } from 'node:fs';
import * as vscode from 'vscode';

export const EXTENSION_ID = 'vendetta-dev.vendetta';

/** Written by test/e2e/vscodeEnv.ts before code-server starts. */
export interface E2eInfo {
  home: string;
  /** The built CLI the coordinator runs from. */
  cli: string;
  nodes: Array<{ name: string; host: string; user: string; identity: string; fingerprint: string }>;
  /** A workspace already up on nodes[0], with services. */
  workspace?: { name: string; node: string; services: string[] };
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

export async function waitFor<T>(what: string, ms: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
