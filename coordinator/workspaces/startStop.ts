/** `workspace start` and `stop`: asked of the node under the workspace's lock, then announced. */
import type { CancellationToken } from 'vscode-jsonrpc';
import { StartWorkspace, StopWorkspace, type WorkspaceInfo } from '../../agent/protocol';
import type { WorkspaceRef, WorkspaceStartResult, WorkspaceSummary } from '../protocol';
import { checkWorkspaceInfo } from './agentReplies';
import type { WorkspaceOps } from './operations';
import type { WorkspaceRecord } from './store';
import { upServices } from './upServices';

/** Starts the workspace, then its services, and returns once they are behind their checks (as `up` does). */
export function startWorkspace(
  ops: WorkspaceOps,
  ref: WorkspaceRef,
  token?: CancellationToken,
): Promise<WorkspaceStartResult> {
  return askNode(ops, ref, 'start', token, async (record, info, s) => {
    const services =
      info.state === 'running' ? await upServices(ops, record, undefined, false, () => undefined, token) : undefined;
    return { ...s, ...(services?.length ? { services } : {}) };
  });
}

export function stopWorkspace(
  ops: WorkspaceOps,
  ref: WorkspaceRef,
  token?: CancellationToken,
): Promise<WorkspaceSummary> {
  return askNode(ops, ref, 'stop', token, async (_record, _info, s) => s);
}

/** Asks the node to start or stop the workspace under its lock, notes and announces its answer, then `then`. */
async function askNode<T>(
  ops: WorkspaceOps,
  ref: WorkspaceRef,
  what: 'start' | 'stop',
  token: CancellationToken | undefined,
  then: (record: WorkspaceRecord, info: WorkspaceInfo, summary: WorkspaceSummary) => Promise<T>,
): Promise<T> {
  const record = ops.resolve(ref);
  const type = what === 'start' ? StartWorkspace : StopWorkspace;
  return ops.exclusive(
    record.node,
    record.name,
    async () => {
      const info = checkWorkspaceInfo(
        await ops.client(record.node).request(type, { name: record.name }, token),
        record.node,
      );
      ops.noteInfo(record, info);
      const s = ops.summary(record);
      ops.emitChange();
      return then(record, info, s);
    },
    what,
  );
}
