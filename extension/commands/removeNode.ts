/**
 * Remove Node: forget a node (and unpin its key), or clean it up first: its workspaces, listed in
 * the modal, then its agent. The clean-up removes exactly the listed workspaces.
 */
import * as vscode from 'vscode';
import { RemoveNode, type RemoveNodeResult } from '../../coordinator/protocol';
import { CancelledError } from '../errors';
import type { CommandContext } from './context';
import { resolveNode } from './pickers';
import { removeNodeDetail } from './removeNodeText';

export async function removeNode(ctx: CommandContext, arg?: unknown): Promise<RemoveNodeResult> {
  const node = await resolveNode(ctx, arg, { title: 'Remove Node', filter: (n) => n.transport !== 'local' });
  const plan = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Listing the workspaces on ${node.name}…` },
    () =>
      ctx.client.request(RemoveNode, { name: node.name, purge: true, dryRun: true }).then(
        (r) => r.workspaces ?? [],
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      ),
  );
  const remove = 'Remove';
  const purge = 'Remove and Clean Up Node';
  const buttons = plan instanceof Error ? [remove] : [remove, purge];
  const answer = await vscode.window.showWarningMessage(
    `Remove the node ${node.name}?`,
    { modal: true, detail: removeNodeDetail(node, plan) },
    ...buttons,
  );
  if (!answer) throw new CancelledError();
  const params =
    answer === purge && !(plan instanceof Error)
      ? { name: node.name, purge: true, workspaces: plan.map((w) => w.name) }
      : { name: node.name, purge: false };
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Removing ${node.name}…` },
    () => ctx.client.request(RemoveNode, params),
  );
  const gone = result.workspaces?.length ? `, its workspaces ${result.workspaces.map((w) => w.name).join(', ')}` : '';
  ctx.log.info(`Removed node ${node.name}${gone}${result.purged ? ' and purged its agent' : ''}`);
  ctx.refresh.request('reload');
  return result;
}
