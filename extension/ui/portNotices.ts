/**
 * Acts on `onAutoForward` when a port starts listening inside a workspace (the coordinator
 * relays the node's ports/didChange): a notice offering Forward, or a forward opened in the
 * browser or the Simple Browser. See views/nodes/autoForward.ts for which port gets what.
 */
import * as vscode from 'vscode';
import { ListPortsRequest, type PortInfo, type WorkspaceSummary } from '../../coordinator/protocol';
import type { CommandContext } from '../commands/context';
import { forwardPort, forwardPortOf } from '../commands/forwardPort';
import { errorInfo } from '../errors';
import { autoForwardSteps, reachableDetected, type AutoForwardStep } from '../views/nodes/autoForward';

export class PortNotices implements vscode.Disposable {
  private readonly seen = new Map<string, Set<number>>();
  private readonly openedOnce = new Set<string>();
  private readonly sub: vscode.Disposable;

  constructor(private readonly ctx: CommandContext) {
    this.sub = ctx.client.onPorts((w) => void this.changed(w));
  }

  private async changed(ref: { name: string; node: string }): Promise<void> {
    const key = `${ref.node}/${ref.name}`;
    let rows: PortInfo[];
    try {
      rows = await this.ctx.client.request(ListPortsRequest, ref);
    } catch (err) {
      this.ctx.log.debug(`Could not list the ports of ${ref.name}: ${errorInfo(err).message}`);
      return;
    }
    const opened = new Set(
      [...this.openedOnce].filter((k) => k.startsWith(`${key}/`)).map((k) => Number(k.slice(key.length + 1))),
    );
    const steps = autoForwardSteps(this.seen.get(key), rows, opened);
    this.seen.set(key, reachableDetected(rows));
    const w = this.ctx.tree.snapshot.workspaces?.find((x) => x.name === ref.name && x.node === ref.node);
    if (!w) return;
    for (const step of steps) void this.act(w, key, step);
  }

  private async act(w: WorkspaceSummary, key: string, step: AutoForwardStep): Promise<void> {
    const p = step.port;
    const what = `Port ${p.port}${p.label !== undefined ? ` (${p.label})` : ''}`;
    try {
      if (step.action === 'notify') {
        const forward = 'Forward';
        const choice = await vscode.window.showInformationMessage(`${what} is listening in ${w.name}.`, forward);
        if (choice === forward) await forwardPort(this.ctx, { kind: 'port', workspace: w, port: p });
        return;
      }
      const info = await forwardPortOf(this.ctx, w, p.port);
      this.ctx.refresh.request('reload');
      this.openedOnce.add(`${key}/${p.port}`);
      const url = p.protocol === 'https' ? info.url.replace(/^http:/, 'https:') : info.url;
      this.ctx.log.info(`${what} of ${w.name} started listening: forwarded to ${url}`);
      if (step.action === 'openPreview') await vscode.commands.executeCommand('simpleBrowser.show', url);
      else await vscode.env.openExternal(vscode.Uri.parse(url));
    } catch (err) {
      const info = errorInfo(err);
      this.ctx.log.error(`Failed to forward ${what} of ${w.name}: ${info.message}`);
      void vscode.window.showErrorMessage(`Failed to forward ${what} of ${w.name}: ${info.message}`);
    }
  }

  dispose(): void {
    this.sub.dispose();
  }
}
