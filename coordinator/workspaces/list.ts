/** `workspace list`: every node that has workspaces asked in parallel, each within a timeout. */
import { ListWorkspaces, type WorkspaceInfo } from '../../agent/protocol';
import { withTimeout } from '../../common/async/timeout';
import { toVendettaError, VendettaError } from '../errors';
import type { WorkspaceSummary } from '../protocol';
import { checkWorkspaceList } from './agentReplies';
import type { WorkspaceOps } from './operations';

/** Asks each node that has workspaces, in parallel, each within a timeout. */
export async function listWorkspaces(ops: WorkspaceOps, timeoutMs: number): Promise<WorkspaceSummary[]> {
  const records = ops.store.list();
  const nodes = [...new Set(records.map((r) => r.node))];
  const byNode = new Map<string, { infos?: Map<string, WorkspaceInfo>; error?: VendettaError }>();
  await Promise.all(
    nodes.map(async (node) => {
      try {
        const infos = await withTimeout(ops.client(node).request(ListWorkspaces, {}), timeoutMs, () =>
          unanswered(node, timeoutMs),
        );
        byNode.set(node, { infos: new Map(checkWorkspaceList(infos, node).map((i) => [i.name, i])) });
      } catch (err) {
        byNode.set(node, { error: toVendettaError(err) });
      }
    }),
  );
  return records.map((r) => {
    const got = byNode.get(r.node);
    if (got?.infos) ops.noteInfo(r, got.infos.get(r.name));
    else ops.noteInfo(r, undefined, got?.error);
    return ops.summary(r);
  });
}

function unanswered(node: string, ms: number): VendettaError {
  return new VendettaError('NODE_UNREACHABLE', `${node} did not answer within ${ms / 1000} s`, {
    node,
    hint: `\`vendetta node test ${node}\` shows which step fails.`,
  });
}
