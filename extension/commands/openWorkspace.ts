/** Shared by Open Workspace in New/Current Window: start it when stopped, then open it through Remote-SSH. */
import * as vscode from 'vscode';
import { StartWorkspaceRequest, type WorkspaceSummary } from '../../coordinator/protocol';
import { CancelledError, ExtensionError } from '../errors';
import type { CommandContext } from './context';
import { resolveWorkspace } from './pickers';

export async function openWorkspace(ctx: CommandContext, arg: unknown, newWindow: boolean): Promise<string> {
  let w: WorkspaceSummary = await resolveWorkspace(ctx, arg, {
    title: newWindow ? 'Open Workspace in New Window' : 'Open Workspace in Current Window',
  });
  if (w.state === 'missing')
    throw new ExtensionError(
      `The workspace ${w.name} is gone from ${w.node}`,
      'Delete it, then create it again with "Reopen Folder in Remote Workspace".',
    );
  if (w.state !== 'running') {
    const start = 'Start and Open';
    const answer = await vscode.window.showInformationMessage(
      `The workspace ${w.name} is ${w.state}. Start it?`,
      start,
    );
    if (answer !== start) throw new CancelledError();
    const target = w;
    w = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Starting ${w.name} on ${w.node}…` },
      () => ctx.client.request(StartWorkspaceRequest, { name: target.name, node: target.node }),
    );
  }
  return ctx.remote.open(w, newWindow);
}
