/** What the in-host suites ask the Remote Nodes tree and a forwarded URL, as the view holds them now. */
import assert from 'node:assert/strict';
import { get } from 'node:http';
import * as vscode from 'vscode';
import type { WorkspaceSummary } from '../../../coordinator/protocol';
import type { TreeElement } from '../../../extension/views/nodes/nodeTreeModel';
import { vendettaApi, waitFor, type E2eWorkspace } from './hostEnv';

type WorkspaceElement = Extract<TreeElement, { kind: 'workspace' }>;

/** The status code and body of a GET. */
export function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
  });
}

/** The workspace's row in the tree, as it shows now (no refetch: what the view holds). */
export async function workspaceElement(ws: E2eWorkspace): Promise<WorkspaceElement | undefined> {
  const { tree } = await vendettaApi();
  const node = (await tree.getChildren()).find((e) => e.kind === 'node' && e.node.name === ws.node);
  if (!node) return undefined;
  const el = (await tree.getChildren(node)).find((e) => e.kind === 'workspace' && e.workspace.name === ws.name);
  return el?.kind === 'workspace' ? el : undefined;
}

export async function serviceElements(ws: E2eWorkspace): Promise<Array<Extract<TreeElement, { kind: 'service' }>>> {
  const { tree } = await vendettaApi();
  const wsEl = await workspaceElement(ws);
  if (!wsEl) return [];
  return (await tree.getChildren(wsEl)).filter(
    (e): e is Extract<TreeElement, { kind: 'service' }> => e.kind === 'service',
  );
}

/** Until every service of the workspace shows healthy in the tree. */
export async function waitHealthy(ws: E2eWorkspace, ms: number): Promise<void> {
  await waitFor(`${ws.services.join(', ')} healthy in the tree`, ms, async () => {
    const s = await serviceElements(ws);
    return ws.services.every((n) => s.some((e) => e.service.name === n && e.service.state === 'healthy'))
      ? true
      : undefined;
  }).catch(async (err: Error) => {
    const s = await serviceElements(ws);
    throw new Error(
      `${err.message}; the tree shows: ${s.map((e) => `${e.service.name} ${e.service.state}`).join(', ') || 'no services'}`,
    );
  });
}

/** Runs a Stop/Start Workspace command until the tree shows the workspace in `state`; its row then. */
async function commandInTree(
  ws: E2eWorkspace,
  command: string,
  arg: unknown,
  state: 'stopped' | 'running',
): Promise<WorkspaceElement> {
  const summary = await vscode.commands.executeCommand<WorkspaceSummary | undefined>(command, arg);
  assert.equal(summary?.state, state, `${command} returned the ${state} workspace`);
  const el = await waitFor(`the tree to show ${ws.name} ${state}`, 30_000, async () => {
    const e = await workspaceElement(ws);
    return e?.workspace.state === state ? e : undefined;
  });
  const { tree } = await vendettaApi();
  assert.equal(tree.getTreeItem(el).contextValue, `${state}Workspace`);
  return el;
}

/**
 * Stop Workspace, given `arg` as a caller passes it (a `{name, node}` from the palette, the tree
 * item from its context menu), until the tree shows the workspace stopped; its row then.
 */
export function stopInTree(ws: E2eWorkspace, arg: unknown): Promise<WorkspaceElement> {
  return commandInTree(ws, 'vendetta.stopWorkspace', arg, 'stopped');
}

/** Start Workspace from `arg` (as stopInTree) until the tree shows it running and its services healthy. */
export async function startInTree(ws: E2eWorkspace, arg: unknown): Promise<void> {
  await commandInTree(ws, 'vendetta.startWorkspace', arg, 'running');
  await waitHealthy(ws, 120_000);
}
