/** A click on a service or a forwarded port: forward its port (unless it already is) and open it in the browser. */
import * as vscode from 'vscode';
import { ExtensionError } from '../errors';
import type { CommandContext } from './context';
import { forwardPortOf } from './forwardPort';
import { asTreeElement } from './targets';

export async function openServiceUrl(ctx: CommandContext, arg?: unknown): Promise<string> {
  const el = asTreeElement(arg);
  if (el?.kind === 'port') {
    const url = el.port.url ?? (await forwardPortOf(ctx, el.workspace, el.port.port)).url;
    ctx.log.info(`Opening ${url} (port ${el.port.port} in ${el.workspace.name})`);
    await vscode.env.openExternal(vscode.Uri.parse(url));
    return url;
  }
  if (el?.kind !== 'service' || el.service.port === undefined)
    throw new ExtensionError('Choose a service with a port in the Remote Nodes view');
  const url =
    el.port?.localPort !== undefined
      ? `http://127.0.0.1:${el.port.localPort}`
      : (await forwardPortOf(ctx, el.workspace, el.service.port)).url;
  ctx.log.info(`Opening ${url} (${el.service.name} in ${el.workspace.name})`);
  await vscode.env.openExternal(vscode.Uri.parse(url));
  return url;
}
