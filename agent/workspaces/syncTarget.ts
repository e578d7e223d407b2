/**
 * What a sync of a workspace needs from its record: the folder, and whom the files belong to.
 * The owner comes only from the record the daemon wrote (the login user's ids as first seen,
 * before any of the workspace's own code ran), checked here, never from the workspace now.
 */
import { AgentError } from '../errors';
import type { SyncTarget } from '../protocol';
import type { WorkspaceRecord } from './state';

/** A uid or gid a file can be given: not -1 (which means "unchanged" to chown). */
function validId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v < 0xffffffff;
}

/** The ids of a non-root login user, checked; undefined for root (or a user mapped to uid 0). */
export function checkedLogin(
  name: string,
  ids: { uid: number; gid: number },
): { uid: number; gid: number } | undefined {
  if (!validId(ids.uid) || !validId(ids.gid)) {
    throw new AgentError(
      'INTERNAL',
      `The login user of workspace ${name} has no valid uid/gid (${JSON.stringify(ids)})`,
      {
        hint: `Remove the workspace (\`vendetta workspace rm ${name} --force\`) and create it again.`,
      },
    );
  }
  return ids.uid === 0 ? undefined : { uid: ids.uid, gid: ids.gid };
}

/** Only a root agent gives files away; any other agent writes as itself. */
export function syncTarget(rec: WorkspaceRecord, agentUid = process.getuid?.()): SyncTarget {
  const owner = agentUid === 0 && rec.login ? checkedLogin(rec.spec.name, rec.login) : undefined;
  return { nodeFolder: rec.nodeFolder, ...(owner ? { owner } : {}) };
}
