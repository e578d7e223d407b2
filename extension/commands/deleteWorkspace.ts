/** Delete Workspace: modal confirm, then workspaces/remove (a running one is stopped first). */
import * as vscode from 'vscode';
import { RemoveWorkspaceRequest } from '../../coordinator/protocol';
import { CancelledError } from '../errors';
import type { CommandContext } from './context';
import { resolveWorkspace } from './pickers';

export async function deleteWorkspace(ctx: CommandContext, arg?: unknown): Promise<{ name: string; node: string }> {
  const w = await resolveWorkspace(ctx, arg, { title: 'Delete Workspace' });
  const del = 'Delete';
  const answer = await vscode.window.showWarningMessage(
    `Delete the workspace ${w.name} on ${w.node}?`,
    {
      modal: true,
      detail: `Its ${w.provider} ${w.provider === 'qemu' ? 'VM' : 'container'} and everything inside it on the node are removed${w.state === 'running' ? ' (it is stopped first)' : ''}. The project folder on this machine stays.`,
    },
    del,
  );
  if (answer !== del) throw new CancelledError();
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Deleting ${w.name} on ${w.node}…` },
    () => ctx.client.request(RemoveWorkspaceRequest, { name: w.name, node: w.node, force: true }),
  );
  ctx.log.info(`Deleted workspace ${w.name} on ${w.node}`);
  ctx.refresh.request('reload');
  return result;
}
