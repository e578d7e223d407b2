/** Remove Node: forget a node (and unpin its key), optionally purging the agent on it. Modal confirm. */
import * as vscode from 'vscode';
import { RemoveNode } from '../../coordinator/protocol';
import { CancelledError } from '../errors';
import type { CommandContext } from './context';
import { resolveNode } from './pickers';

export async function removeNode(ctx: CommandContext, arg?: unknown): Promise<{ name: string; purged: boolean }> {
  const node = await resolveNode(ctx, arg, { title: 'Remove Node', filter: (n) => n.transport !== 'local' });
  const remove = 'Remove';
  const purge = 'Remove and Clean Up Node';
  const answer = await vscode.window.showWarningMessage(
    `Remove the node ${node.name}?`,
    { modal: true, detail: `Vendetta forgets ${node.user}@${node.host}:${node.port} and its pinned host key. "Clean up" also stops the agent there and deletes its files; workspaces on the node are not removed.` },
    remove,
    purge,
  );
  if (!answer) throw new CancelledError();
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Removing ${node.name}…` }, () =>
    ctx.client.request(RemoveNode, { name: node.name, purge: answer === purge }),
  );
  ctx.log.info(`Removed node ${node.name}${result.purged ? ' and purged its agent' : ''}`);
  ctx.refresh.request('reload');
  return result;
}
