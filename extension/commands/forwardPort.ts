/** Forward Port: carry a workspace port to this machine's 127.0.0.1 (ports/forward). */
import * as vscode from 'vscode';
import {
  ForwardPortRequest,
  ListPortsRequest,
  type ForwardInfo,
  type PortInfo,
  type WorkspaceSummary,
} from '../../coordinator/protocol';
import { CancelledError, ExtensionError, errorInfo } from '../errors';
import type { CommandContext } from './context';
import { resolveWorkspace } from './pickers';
import { asTreeElement } from './targets';

const needsNewerCoordinator = () =>
  new ExtensionError(
    'This coordinator cannot forward ports yet',
    'Update Vendetta; `vendetta coordinator stop` makes the next request start the new coordinator.',
  );

async function choosePort(ctx: CommandContext, w: WorkspaceSummary): Promise<number> {
  let ports: PortInfo[] = [];
  try {
    ports = await ctx.client.request(ListPortsRequest, { name: w.name, node: w.node });
  } catch (err) {
    if (!errorInfo(err).methodNotFound) throw err;
  }
  const other = { label: 'Another port…', port: 0 };
  const items = [
    ...ports.map((p) => ({
      label: String(p.port),
      description: [p.label ?? p.service ?? p.source, p.health, p.localPort ? `forwarded to ${p.localPort}` : undefined]
        .filter(Boolean)
        .join(' · '),
      port: p.port,
    })),
    other,
  ];
  const picked = ports.length
    ? await vscode.window.showQuickPick(items, {
        title: `Forward Port of ${w.name}`,
        placeHolder: 'The port inside the workspace',
      })
    : other;
  if (!picked) throw new CancelledError();
  if (picked.port) return picked.port;
  const typed = await vscode.window.showInputBox({
    title: `Forward Port of ${w.name}`,
    prompt: 'The port inside the workspace',
    validateInput: (v) => (/^\d+$/.test(v) && +v >= 1 && +v <= 65535 ? undefined : 'A port from 1 to 65535'),
  });
  if (!typed) throw new CancelledError();
  return Number(typed);
}

export async function forwardPortOf(ctx: CommandContext, w: WorkspaceSummary, port: number): Promise<ForwardInfo> {
  try {
    return await ctx.client.request(ForwardPortRequest, { name: w.name, node: w.node, port });
  } catch (err) {
    if (errorInfo(err).methodNotFound) throw needsNewerCoordinator();
    throw err;
  }
}

export async function forwardPort(ctx: CommandContext, arg?: unknown): Promise<ForwardInfo> {
  const el = asTreeElement(arg);
  const w = await resolveWorkspace(ctx, arg, { title: 'Forward Port', states: ['running'] });
  const port =
    el?.kind === 'service' && el.service.port !== undefined
      ? el.service.port
      : el?.kind === 'port'
        ? el.port.port
        : await choosePort(ctx, w);
  const info = await forwardPortOf(ctx, w, port);
  ctx.log.info(`Forwarded ${w.name}:${port} to ${info.url}`);
  ctx.refresh.request('reload');
  const open = 'Open in Browser';
  const copy = 'Copy URL';
  void vscode.window.showInformationMessage(`${w.name}:${port} is at ${info.url}`, open, copy).then((c) => {
    if (c === open) void vscode.env.openExternal(vscode.Uri.parse(info.url));
    if (c === copy) void vscode.env.clipboard.writeText(info.url);
  });
  return info;
}
