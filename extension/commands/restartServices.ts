/** Restart Services: every service of a running workspace, or the one service clicked on. */
import * as vscode from 'vscode';
import { StartServicesRequest, type WorkspaceServices } from '../../coordinator/protocol';
import type { CommandContext } from './context';
import { resolveWorkspace } from './pickers';
import { asTreeElement } from './targets';

export async function restartServices(ctx: CommandContext, arg?: unknown): Promise<WorkspaceServices> {
  const el = asTreeElement(arg);
  const service = el?.kind === 'service' ? el.service.name : undefined;
  const w = await resolveWorkspace(ctx, arg, { title: 'Restart Services', states: ['running'] });
  const what = service ? `${service} in ${w.name}` : `the services of ${w.name}`;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Restarting ${what}…` },
    () => ctx.client.request(StartServicesRequest, { name: w.name, node: w.node, ...(service ? { service } : {}) }),
  );
  ctx.refresh.request('reload');
  return result;
}
