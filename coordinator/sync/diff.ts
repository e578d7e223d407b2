/**
 * What a sync sends: files that are new or whose size or mtime differ from the node's copy; and
 * what it deletes: files this coordinator sent before, that are gone locally and that nobody
 * changed in the workspace since (so a file made inside the workspace, or an ignored build
 * output, is never deleted by a sync).
 */
import type { ManifestEntry } from '../../agent/protocol';
import type { LocalFile } from './fileList';

/** size + mtime of a file as the last successful sync left it on the node. */
export interface SyncedEntry {
  size: number;
  mtimeMs: number;
}

export interface SyncPlan {
  send: LocalFile[];
  delete: string[];
  unchanged: number;
}

/**
 * Same modification time, whichever precision the node kept: whole seconds (a plain ustar
 * header) or better (a pax mtime record).
 */
export function sameMtime(localMs: number, remoteMs: number): boolean {
  if (Math.floor(localMs / 1000) !== Math.floor(remoteMs / 1000)) return false;
  return remoteMs % 1000 === 0 || Math.abs(localMs - remoteMs) < 1;
}

function differs(local: LocalFile, remote: ManifestEntry): boolean {
  if (local.size !== remote.size || !sameMtime(local.mtimeMs, remote.mtimeMs)) return true;
  // A chmod +x/-x is a change worth sending; other mode bits depend on the node's umask.
  return local.kind === 'file' && (local.mode & 0o111) !== 0 !== ((remote.mode & 0o111) !== 0);
}

export function planSync(local: readonly LocalFile[], remote: readonly ManifestEntry[], lastSynced?: ReadonlyMap<string, SyncedEntry>): SyncPlan {
  const remoteByPath = new Map(remote.map((e) => [e.path, e]));
  const send: LocalFile[] = [];
  let unchanged = 0;
  for (const f of local) {
    const r = remoteByPath.get(f.path);
    if (!r || differs(f, r)) send.push(f);
    else unchanged++;
  }
  const localPaths = new Set(local.map((f) => f.path));
  const del: string[] = [];
  if (lastSynced) {
    for (const r of remote) {
      if (localPaths.has(r.path)) continue;
      const was = lastSynced.get(r.path);
      if (was && was.size === r.size && sameMtime(was.mtimeMs, r.mtimeMs)) del.push(r.path);
    }
  }
  del.sort();
  return { send, delete: del, unchanged };
}
