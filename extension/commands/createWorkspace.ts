/** Create Workspace: a project folder on a node (the tree's node, or chosen), without opening it. */
import * as vscode from 'vscode';
import type { WorkspaceUpResult } from '../../coordinator/protocol';
import { COMMAND } from './ids';
import type { CommandContext } from './context';
import { resolveNode, resolveProjectFolder } from './pickers';
import { conflictSetOf } from '../sync/conflictModel';
import { notifyConflicts } from '../sync/showConflicts';
import { runWorkspaceUp } from './workspaceUp';

export async function createWorkspace(ctx: CommandContext, arg?: unknown): Promise<WorkspaceUpResult> {
  const isUri = arg instanceof vscode.Uri;
  const folder = await resolveProjectFolder(isUri ? arg : undefined, 'Create Workspace');
  const preselect = vscode.workspace.getConfiguration('vendetta').get<string>('defaultNode') || undefined;
  const node = await resolveNode(ctx, isUri ? undefined : arg, {
    title: 'Create Workspace: node',
    filter: (n) => n.status !== 'offline',
    ...(preselect ? { preselect } : {}),
  });
  const result = await runWorkspaceUp(ctx, folder, node.name);
  const open = 'Open in New Window';
  const conflicts = conflictSetOf(result);
  const choice = conflicts
    ? notifyConflicts(ctx, conflicts, [open])
    : vscode.window.showInformationMessage(`Workspace ${result.name} is ${result.state} on ${result.node}.`, open);
  void Promise.resolve(choice).then((c) => {
    if (c === open)
      void vscode.commands.executeCommand(COMMAND.openWorkspaceInNewWindow, { name: result.name, node: result.node });
  });
  return result;
}
