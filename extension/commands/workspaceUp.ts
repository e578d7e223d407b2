/** workspaces/up in a cancellable progress notification; shared by Create Workspace and Reopen. */
import * as vscode from 'vscode';
import { localEnvOf, WorkspaceUp, type WorkspaceUpParams, type WorkspaceUpResult } from '../../coordinator/protocol';
import { withCoordinatorProgress } from '../ui/progress';
import { dotfilesFromSettings } from '../util/dotfilesSettings';
import { upWarningLines, upWarningNotice } from '../util/upWarnings';
import type { CommandContext } from './context';

/** `config`: the config file chosen when the folder has several. */
export async function runWorkspaceUp(
  ctx: CommandContext,
  folder: vscode.Uri,
  node: string,
  config?: string,
): Promise<WorkspaceUpResult> {
  const params: WorkspaceUpParams = {
    path: folder.fsPath,
    node,
    ...(config !== undefined ? { config } : {}),
    // devcontainer.json's ${localEnv:…} reads the environment VS Code runs in.
    localEnv: localEnvOf(process.env),
    // The config's forwardPorts come to this machine when the window opens, as Dev Containers does.
    forward: true,
  };
  const dotfiles = dotfilesFromSettings(vscode.workspace.getConfiguration('vendetta'));
  if (dotfiles) params.dotfiles = dotfiles;
  const result = await withCoordinatorProgress(
    ctx.client,
    `Workspace for ${folder.fsPath.split('/').pop() ?? folder.fsPath} on ${node}`,
    (progressToken, token) => ctx.client.request(WorkspaceUp, { ...params, progressToken }, token),
    { log: ctx.log },
  );
  const sync = result.sync ? `, synced ${result.sync.sent}/${result.sync.files} files` : '';
  ctx.log.info(
    `Workspace ${result.name} on ${result.node} is ${result.state}${result.existed ? ' (existed)' : ''}${sync} in ${Math.round(result.elapsedMs)} ms`,
  );
  for (const line of upWarningLines(result.warnings)) ctx.log.warn(line);
  // Not awaited: the window opens meanwhile, and the workspace runs whatever the answer.
  const notice = upWarningNotice(result.name, result.warnings);
  if (notice)
    void vscode.window.showWarningMessage(notice, 'Show Log').then((c) => {
      if (c) ctx.log.show(true);
    });
  ctx.refresh.request('reload');
  return result;
}
