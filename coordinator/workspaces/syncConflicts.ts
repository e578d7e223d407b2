/**
 * Settling a sync conflict from the CLI or VS Code: take the laptop's version of one path (a
 * sync of that path alone, laptop wins), or keep the workspace's (the base moves, so the path is
 * no longer reported); and reading the workspace's copy of a path to compare the two.
 */
import type { CancellationToken } from 'vscode-jsonrpc';
import { SyncRead, type NodeEntryKind } from '../../agent/protocol';
import { VendettaError } from '../errors';
import type {
  ReadWorkspaceFileParams,
  ReadWorkspaceFileResult,
  ResolveConflictParams,
  ResolveConflictResult,
} from '../protocol';
import { keepWorkspaceVersion, syncProject } from '../sync/sender';
import type { WorkspaceOps } from './operations';

const KINDS: readonly NodeEntryKind[] = ['file', 'symlink', 'folder', 'special', 'blocked'];

function syncedProject(m: WorkspaceOps, p: { name: string; node?: string }) {
  const record = m.resolve(p);
  if (record.projectPath === undefined || record.git) {
    throw new VendettaError(
      'INVALID_PARAMS',
      `${record.name} on ${record.node} is not synced from a folder on this machine`,
      {
        hint: 'Only a workspace made by `vendetta workspace up PATH` (not --git) has sync conflicts.',
      },
    );
  }
  return { record, root: record.projectPath };
}

export function resolveConflict(
  m: WorkspaceOps,
  p: ResolveConflictParams,
  token?: CancellationToken,
): Promise<ResolveConflictResult> {
  const { record, root } = syncedProject(m, p);
  return m.exclusive(record.node, record.name, async () => {
    const o = {
      client: m.client(record.node),
      node: record.node,
      workspace: record.name,
      root,
      state: m.syncState,
      ...(token ? { token } : {}),
    };
    if (p.take === 'workspace') {
      await keepWorkspaceVersion(o, p.path);
      m.log.info('sync conflict: kept the workspace version', {
        workspace: record.name,
        node: record.node,
        path: p.path,
      });
      return { path: p.path, take: p.take };
    }
    const sync = await syncProject({ ...o, only: [p.path], overwrite: true });
    m.log.info('sync conflict: sent the local version', {
      workspace: record.name,
      node: record.node,
      path: p.path,
      sent: sync.sent,
      deleted: sync.deleted,
    });
    return { path: p.path, take: p.take, sync };
  });
}

/** The agent's answer, checked: it goes on to the extension. */
export function checkReadReply(reply: unknown, node: string): ReadWorkspaceFileResult {
  const r = reply as Partial<ReadWorkspaceFileResult> | null;
  const ok =
    !!r &&
    typeof r === 'object' &&
    (r.kind === undefined || KINDS.includes(r.kind)) &&
    (r.content === undefined || typeof r.content === 'string') &&
    (r.encoding === undefined || r.encoding === 'base64' || r.encoding === 'utf8') &&
    (r.size === undefined || typeof r.size === 'number');
  if (!ok)
    throw new VendettaError('AGENT_ERROR', `The agent on ${node} sent a malformed file`, {
      node,
      hint: 'Upgrade vendetta so the coordinator and the agent match.',
    });
  return {
    ...(r.kind ? { kind: r.kind } : {}),
    ...(r.content !== undefined ? { content: r.content } : {}),
    ...(r.encoding ? { encoding: r.encoding } : {}),
    ...(r.size !== undefined ? { size: r.size } : {}),
  };
}

export async function readSyncedFile(
  m: WorkspaceOps,
  p: ReadWorkspaceFileParams,
  token?: CancellationToken,
): Promise<ReadWorkspaceFileResult> {
  const record = m.resolve(p);
  return checkReadReply(
    await m.client(record.node).request(SyncRead, { name: record.name, path: p.path }, token),
    record.node,
  );
}
