/**
 * Runs inside code-server's extension host as the "tests" of one fresh window (bundled by
 * test/bench/extensionActivation.ts): activates the trivial fixture extension and ours, one after
 * the other, and reports both times. The folder's name says which goes first, so the bench can
 * alternate the order across windows.
 */
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { reportMetric } from '../../e2e/extensionHost/hostEnv';

export const OURS_ID = 'vendetta-dev.vendetta';
export const BASELINE_ID = 'vendetta-test.trivial-extension';

async function timeActivation(ext: vscode.Extension<unknown>): Promise<{ ms: number; api: unknown }> {
  const t0 = performance.now();
  const api = await ext.activate();
  return { ms: performance.now() - t0, api };
}

export async function run(): Promise<void> {
  const ours = vscode.extensions.getExtension(OURS_ID);
  const baseline = vscode.extensions.getExtension(BASELINE_ID);
  if (!ours || !baseline) throw new Error(`both ${OURS_ID} and ${BASELINE_ID} must be loaded in this window`);
  if (ours.isActive || baseline.isActive)
    throw new Error(
      'an extension was already active before it was timed (does the folder hold a .vendetta/config.yaml?)',
    );
  // Let the window finish starting up first: the figures are the extensions', not the queue's.
  await new Promise((r) => setTimeout(r, 1500));
  const oursFirst = (vscode.workspace.workspaceFolders?.[0]?.name ?? '').endsWith('-ours-first');
  const order = oursFirst ? [ours, baseline] : [baseline, ours];
  const times = new Map<vscode.Extension<unknown>, { ms: number; api: unknown }>();
  for (const ext of order) times.set(ext, await timeActivation(ext));
  const api = times.get(ours)!.api as { tree?: { getChildren?: unknown } } | undefined;
  if (typeof api?.tree?.getChildren !== 'function') throw new Error('our activate() did not return the Vendetta API');
  if ((times.get(baseline)!.api as { trivial?: boolean } | undefined)?.trivial !== true)
    throw new Error('the fixture did not return its API');
  reportMetric('ours', times.get(ours)!.ms, 'ms');
  reportMetric('baseline', times.get(baseline)!.ms, 'ms');
}
