/**
 * Reopen Folder in Remote Workspace: read the open folder's `.vendetta/config.yaml` (or
 * devcontainer.json), pick a node (the config's `node` suggested), run workspaces/up with a
 * cancellable progress notification that shows each step (create or start, sync the code), then
 * open the workspace folder through Remote-SSH in this window. Returns the URI it opened.
 */
import * as vscode from 'vscode';
import { ListNodes } from '../../coordinator/protocol';
import { CancelledError, ExtensionError } from '../errors';
import type { CommandContext } from './context';
import { resolveNode, resolveProjectFolder } from './pickers';
import { preferredNode } from './targets';
import { conflictNotice, conflictSetOf, SHOW_CONFLICTS } from '../sync/conflictModel';
import { showConflicts } from '../sync/showConflicts';
import { runWorkspaceUp } from './workspaceUp';
import { configPickItems } from './configPick';
import { rememberExtensions } from '../remote/remoteExtensions';
import { rememberUpNotice, upWarningNotice } from '../util/upWarnings';
import { join } from 'node:path';

export async function reopenInRemoteWorkspace(ctx: CommandContext, arg?: unknown): Promise<string> {
  const title = 'Reopen Folder in Remote Workspace';
  const folder = await resolveProjectFolder(arg instanceof vscode.Uri ? arg : undefined, title);
  const { configChoices, loadWorkspaceConfig } = await import('../../coordinator/config/index.js');
  const config = await pickConfig(await configChoices(folder.fsPath), title);
  const loaded = await loadWorkspaceConfig(config !== undefined ? join(folder.fsPath, config) : folder.fsPath);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !loaded.config) {
    for (const d of loaded.diagnostics)
      ctx.log.warn(`${d.file}:${d.line}:${d.col}: ${d.message}${d.hint ? ` (hint: ${d.hint})` : ''}`);
    const first = errors[0];
    const open = 'Open Config';
    const choice = await vscode.window.showErrorMessage(
      first ? `${first.file}:${first.line}:${first.col}: ${first.message}` : `No workspace config in ${folder.fsPath}`,
      ...(first && first.code !== 'no-config' ? [open] : []),
    );
    if (choice === open && first) {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(first.file));
      const pos = new vscode.Position(Math.max(0, first.line - 1), Math.max(0, first.col - 1));
      await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos) });
    }
    if (first?.code === 'no-config')
      throw new ExtensionError(
        `${folder.fsPath} has no .vendetta/config.yaml or .devcontainer/devcontainer.json`,
        first.hint,
      );
    throw new CancelledError();
  }
  const nodes = await ctx.client.request(ListNodes);
  const defaultNode = vscode.workspace.getConfiguration('vendetta').get<string>('defaultNode');
  const suggested = preferredNode(nodes, loaded.config.node, defaultNode);
  const node = await resolveNode(ctx, undefined, {
    title: `${title}: ${loaded.config.name}`,
    filter: (n) => n.status !== 'offline' || n.name === loaded.config?.node,
    ...(suggested ? { preselect: suggested } : {}),
  });
  const result = await runWorkspaceUp(ctx, folder, node.name, config);
  const conflicts = conflictSetOf(result);
  if (conflicts) {
    // Reopening reloads this window, which would drop a notification: ask first.
    const reopen = 'Reopen Anyway';
    ctx.log.warn(`${conflictNotice(conflicts)} ${conflicts.conflicts.map((c) => c.path).join(', ')}`);
    const choice = await vscode.window.showWarningMessage(
      conflictNotice(conflicts),
      { modal: true, detail: "Compare them first, or reopen with the workspace's versions." },
      SHOW_CONFLICTS,
      reopen,
    );
    // Once every conflict is settled the folder reopens; otherwise this window stays for the rest.
    if (choice === SHOW_CONFLICTS ? (await showConflicts(ctx, conflicts)).length > 0 : choice !== reopen)
      throw new CancelledError();
  }
  // Installed by this extension once the remote window is up (remoteExtensions.ts).
  await rememberExtensions(ctx.extension.globalState, result.sshHost, result.vscodeExtensions ?? []);
  await rememberUpNotice(ctx.extension.globalState, result.sshHost, upWarningNotice(result.name, result.warnings));
  return ctx.remote.open(result, false);
}

/** With several configs, the one the user picks (cancelling cancels); with one or none, undefined. */
async function pickConfig(choices: string[], title: string): Promise<string | undefined> {
  if (choices.length < 2) return undefined;
  const picked = await vscode.window.showQuickPick(configPickItems(choices), {
    title: `${title}: which config?`,
    placeHolder: 'This folder has several workspace configs',
  });
  if (!picked) throw new CancelledError();
  return picked.config;
}
