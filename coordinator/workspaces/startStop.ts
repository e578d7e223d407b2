/** `workspace start` and `stop`: asked of the node under the workspace's lock, then announced. */
import type { CancellationToken } from 'vscode-jsonrpc';
import { StartWorkspace, StopWorkspace } from '../../agent/protocol';
import type { WorkspaceRef, WorkspaceStartResult, WorkspaceSummary } from '../protocol';
import { checkWorkspaceInfo } from './agentReplies';
import type { WorkspaceOps } from './operations';
import { upServices } from './upServices';

/** Starts the workspace, then its services, and returns once they are behind their checks (as `up` does). */
export async function startWorkspace(
  ops: WorkspaceOps,
  ref: WorkspaceRef,
  token?: CancellationToken,
): Promise<WorkspaceStartResult> {
  const record = ops.resolve(ref);
  return ops.exclusive(
    record.node,
    record.name,
    async () => {
      const info = checkWorkspaceInfo(
        await ops.client(record.node).request(StartWorkspace, { name: record.name }, token),
        record.node,
      );
      const s = (ops.noteInfo(record, info), ops.summary(record));
      ops.emitChange();
      const services =
        info.state === 'running' ? await upServices(ops, record, undefined, false, () => undefined, token) : undefined;
      return { ...s, ...(services?.length ? { services } : {}) };
    },
    'start',
  );
}

export async function stopWorkspace(
  ops: WorkspaceOps,
  ref: WorkspaceRef,
  token?: CancellationToken,
): Promise<WorkspaceSummary> {
  const record = ops.resolve(ref);
  return ops.exclusive(
    record.node,
    record.name,
    async () => {
      const info = checkWorkspaceInfo(
        await ops.client(record.node).request(StopWorkspace, { name: record.name }, token),
        record.node,
      );
      const s = (ops.noteInfo(record, info), ops.summary(record));
      ops.emitChange();
      return s;
    },
    'stop',
  );
}
