/** Start Workspace. */
import * as vscode from 'vscode';
import { StartWorkspaceRequest, type WorkspaceSummary } from '../../coordinator/protocol';
import type { CommandContext } from './context';
import { resolveWorkspace } from './pickers';

export async function startWorkspace(ctx: CommandContext, arg?: unknown): Promise<WorkspaceSummary> {
  const w = await resolveWorkspace(ctx, arg, { title: 'Start Workspace', states: ['stopped', 'error'] });
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Starting ${w.name} on ${w.node}…` },
    () => ctx.client.request(StartWorkspaceRequest, { name: w.name, node: w.node }),
  );
  ctx.refresh.request('reload');
  return result;
}
