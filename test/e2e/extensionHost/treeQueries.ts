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

/** The hello services' ports, as their rows show them. */
export const HELLO_PORTS: Record<string, number> = { db: 7070, api: 3000, web: 8080 };

/**
 * The workspace's row says it runs on `provider` from a folder matching `folder` (its description),
 * opens to its services, and its tooltip names the provider and SSH host.
 */
export async function assertRunningRow(ws: E2eWorkspace, provider: string, folder: RegExp): Promise<void> {
  const { tree } = await vendettaApi();
  const wsEl = await waitFor(`${ws.name} under ${ws.node}`, 30_000, () => workspaceElement(ws));
  const item = tree.getTreeItem(wsEl);
  assert.equal(item.label, ws.name);
  assert.equal(item.contextValue, 'runningWorkspace');
  assert.equal(item.collapsibleState, vscode.TreeItemCollapsibleState.Collapsed);
  assert.match(String(item.description), new RegExp(`^running · ${provider} · ${folder.source}$`));
  const tooltip = item.tooltip instanceof vscode.MarkdownString ? item.tooltip.value : String(item.tooltip);
  assert.match(tooltip, new RegExp(`- provider: ${provider}\\n`));
  assert.match(tooltip, new RegExp(`- ssh host: \`${ws.name}\\.${ws.node}\\.vendetta\``));
}

/** Each service of examples/hello has its row, healthy, with its port. */
export async function assertHelloServiceRows(ws: E2eWorkspace): Promise<void> {
  const { tree } = await vendettaApi();
  const services = await serviceElements(ws);
  assert.deepEqual(services.map((e) => e.service.name).sort(), [...ws.services].sort());
  for (const el of services) {
    const s = tree.getTreeItem(el);
    assert.equal(s.label, el.service.name);
    assert.equal(s.contextValue, 'healthyService', el.service.name);
    assert.match(String(s.description), new RegExp(`^:${HELLO_PORTS[el.service.name]} .*healthy$`), el.service.name);
  }
}

/** Until the service's row shows its port forwarded to `localPort`. */
export async function waitForwardShown(ws: E2eWorkspace, service: string, localPort: number): Promise<void> {
  const { tree } = await vendettaApi();
  await waitFor(`the ${service} row to show the forward`, 30_000, async () => {
    const row = (await serviceElements(ws)).find((e) => e.service.name === service);
    if (
      row &&
      String(tree.getTreeItem(row).description).startsWith(`:${HELLO_PORTS[service]} → 127.0.0.1:${localPort} `)
    )
      return true;
    tree.invalidate();
    return undefined;
  });
}

/** Until the channel Show Logs opened holds a "listening on" line of each service; its lines then. */
export async function waitListeningLines(ws: E2eWorkspace, ms: number): Promise<readonly string[]> {
  const api = await vendettaApi();
  const lines = await waitFor('a line of each hello service in the channel', ms, () => {
    const l = api.logLines(ws);
    return ws.services.every((s) => l.some((x) => new RegExp(`^\\S+ ${s}\\s+.? ${s} listening on `).test(x)))
      ? l
      : undefined;
  }).catch((err: Error) => {
    throw new Error(`${err.message}; the channel holds:\n${api.logLines(ws).join('\n')}`);
  });
  assert.match(lines[0]!, new RegExp(`logs of ${ws.name} on ${ws.node}, following`));
  return lines;
}

/** The workspace's node shows online in the tree as the built-in local node, `provider` among its providers. */
export async function assertLocalNodeOffers(ws: E2eWorkspace, provider: string): Promise<void> {
  const { tree } = await vendettaApi();
  const node = await waitFor(`the ${ws.node} node online in the tree`, 30_000, async () => {
    const n = (await tree.getChildren()).find((e) => e.kind === 'node' && e.node.name === ws.node);
    return n?.kind === 'node' && n.node.status === 'online' ? n : undefined;
  });
  const item = tree.getTreeItem(node);
  assert.equal(item.contextValue, 'localNode');
  assert.match(String(item.description), new RegExp(`^online · .* · .*\\b${provider}\\b`));
}
