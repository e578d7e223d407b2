/** Quick picks a command falls back to when it was not given a tree item (palette). */
import * as vscode from 'vscode';
import {
  ListNodes,
  ListWorkspacesRequest,
  type NodeSummary,
  type WorkspaceState,
  type WorkspaceSummary,
} from '../../coordinator/protocol';
import { CancelledError, ExtensionError } from '../errors';
import { nodeDescription } from '../views/nodes/nodeTreeModel';
import type { CommandContext } from './context';
import { findWorkspace, nodeNameOf, workspaceTargetOf } from './targets';

interface Item<T> extends vscode.QuickPickItem {
  value: T;
}

export async function resolveNode(
  ctx: CommandContext,
  arg: unknown,
  opts: { title: string; filter?: (n: NodeSummary) => boolean; preselect?: string },
): Promise<NodeSummary> {
  const nodes = await ctx.client.request(ListNodes);
  const name = nodeNameOf(arg);
  if (name !== undefined) {
    const node = nodes.find((n) => n.name === name);
    if (!node) throw new ExtensionError(`There is no node named ${name}`, 'The Remote Nodes view lists the nodes.');
    return node;
  }
  const candidates = nodes.filter(opts.filter ?? (() => true));
  if (candidates.length === 0)
    throw new ExtensionError('There is no node to choose from', 'Add one with "Vendetta: Add Node".');
  const items: Item<NodeSummary>[] = candidates.map((n) => ({
    label: n.name,
    description: nodeDescription(n),
    detail: n.transport === 'local' ? 'this machine' : `${n.user}@${n.host}:${n.port}`,
    value: n,
  }));
  const preselected = items.find((i) => i.value.name === opts.preselect);
  // The preselected node first, so Enter takes it.
  const ordered = preselected ? [preselected, ...items.filter((i) => i !== preselected)] : items;
  if (preselected) preselected.description = `${preselected.description ?? ''} · suggested`;
  const chosen = await vscode.window.showQuickPick(ordered, {
    title: opts.title,
    placeHolder: 'Choose a node',
    ignoreFocusOut: true,
  });
  if (!chosen) throw new CancelledError();
  return chosen.value;
}

export async function resolveWorkspace(
  ctx: CommandContext,
  arg: unknown,
  opts: { title: string; states?: WorkspaceState[] },
): Promise<WorkspaceSummary> {
  const all = await ctx.client.request(ListWorkspacesRequest, {});
  const target = workspaceTargetOf(arg);
  if (target) {
    const found = findWorkspace(all, target);
    if (found.length === 1) return found[0]!;
    if (found.length === 0)
      throw new ExtensionError(
        `There is no workspace ${target.name}${target.node ? ` on ${target.node}` : ''}`,
        'The Remote Nodes view lists the workspaces.',
      );
    return pick(found, opts.title);
  }
  const candidates = all.filter((w) => !opts.states || opts.states.includes(w.state));
  if (candidates.length === 0) {
    const which = opts.states ? `${opts.states.join(' or ')} ` : '';
    throw new ExtensionError(
      `There is no ${which}workspace`,
      'Create one with "Vendetta: Reopen Folder in Remote Workspace".',
    );
  }
  return pick(candidates, opts.title);
}

async function pick(workspaces: WorkspaceSummary[], title: string): Promise<WorkspaceSummary> {
  const items: Item<WorkspaceSummary>[] = workspaces.map((w) => ({
    label: w.name,
    description: `on ${w.node} · ${w.state} · ${w.provider}`,
    ...(w.projectPath ? { detail: w.projectPath } : {}),
    value: w,
  }));
  const chosen = await vscode.window.showQuickPick(items, {
    title,
    placeHolder: 'Choose a workspace',
    ignoreFocusOut: true,
  });
  if (!chosen) throw new CancelledError();
  return chosen.value;
}

/** A project folder: the argument (a Uri from the explorer), the only open folder, or a choice. */
export async function resolveProjectFolder(arg: unknown, title: string): Promise<vscode.Uri> {
  if (arg instanceof vscode.Uri && arg.scheme === 'file') return arg;
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  if (folders.length === 1) return folders[0]!.uri;
  const browse: Item<vscode.Uri | undefined> = { label: '$(folder-opened) Browse…', value: undefined };
  const items: Item<vscode.Uri | undefined>[] = [
    ...folders.map((f) => ({ label: f.name, description: f.uri.fsPath, value: f.uri })),
    browse,
  ];
  const chosen = folders.length
    ? await vscode.window.showQuickPick(items, { title, placeHolder: 'Choose the project folder' })
    : browse;
  if (!chosen) throw new CancelledError();
  if (chosen.value) return chosen.value;
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    title,
    openLabel: 'Use Folder',
  });
  if (!picked?.[0]) throw new CancelledError();
  return picked[0];
}
