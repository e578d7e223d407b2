/** The Remove Node modal's words: what "Remove" and "Remove and Clean Up" each do to this node. */
import type { PurgedWorkspace } from '../../coordinator/protocol';

/** `plan`: the workspaces a purge would remove, or why the node could not list them (no clean-up then). */
export function removeNodeDetail(
  node: { user: string; host: string; port: number },
  plan: readonly PurgedWorkspace[] | Error,
): string {
  const forget = `"Remove" forgets ${node.user}@${node.host}:${node.port} and its pinned host key; the node is left as it is.`;
  if (plan instanceof Error) return `${forget}\n\nCleaning up is not offered: ${plan.message}`;
  const list = plan.map((w) => `  • ${w.name}${w.state ? ` (${w.state})` : ' (only known here)'}`).join('\n');
  const removes = plan.length
    ? `"Remove and Clean Up" first removes its ${plan.length} workspace${plan.length === 1 ? '' : 's'} — container, folder on the node, ssh_config block and known_hosts line of each:\n${list}\nthen stops the agent there and deletes its files.`
    : '"Remove and Clean Up" also stops the agent there and deletes its files (the node has no workspaces).';
  return `${forget}\n\n${removes}`;
}
