/** Stop Workspace. */
import * as vscode from 'vscode';
import { StopWorkspaceRequest, type WorkspaceSummary } from '../../coordinator/protocol';
import type { CommandContext } from './context';
import { resolveWorkspace } from './pickers';

export async function stopWorkspace(ctx: CommandContext, arg?: unknown): Promise<WorkspaceSummary> {
  const w = await resolveWorkspace(ctx, arg, { title: 'Stop Workspace', states: ['running', 'creating', 'error'] });
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Stopping ${w.name} on ${w.node}…` },
    () => ctx.client.request(StopWorkspaceRequest, { name: w.name, node: w.node }),
  );
  ctx.refresh.request('reload');
  return result;
}
