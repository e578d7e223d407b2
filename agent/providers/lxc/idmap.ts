/**
 * How the project folder (a node folder the agent writes) keeps its owners inside an
 * unprivileged instance, whose ids are shifted on the node (root inside is 100000 outside):
 * - `shift`: the disk device gets `shift=true` (shiftfs), so ids are the same on both sides, as
 *   with Docker's bind mount. LXD 5.0 shifts disk devices only with shiftfs, even on a kernel with
 *   idmapped mounts (it uses those for its own volumes);
 * - `mapped-owner`: a root agent gives the folder and every synced file to the node-side ids of the
 *   login user (the instance's idmap: inside uid u is outside base + u), so root inside owns them;
 * - `raw.idmap`: an agent that is not root cannot give files away: its uid and gid are mapped to
 *   root inside (`raw.idmap`), so what it syncs belongs to root there (LXD must be allowed to map
 *   them: a `root:<uid>:1` line in /etc/subuid, and the same in /etc/subgid).
 */
import type { FolderMapping } from './api';

export function folderMapping(kernel: { shiftfs: boolean }, agent: { uid: number; gid: number }): FolderMapping {
  if (kernel.shiftfs) return { kind: 'shift' };
  if (agent.uid === 0) return { kind: 'mapped-owner' };
  return { kind: 'raw.idmap', uid: agent.uid, gid: agent.gid };
}

/** For `node status`: how this node maps the project folder. */
export function folderMappingText(m: FolderMapping): string {
  if (m.kind === 'shift') return 'shift=true (shiftfs)';
  if (m.kind === 'mapped-owner') return "files given to the instance's mapped ids";
  return `raw.idmap (node uid ${m.uid} is root inside)`;
}

interface IdmapEntry {
  Isuid: boolean;
  Isgid: boolean;
  Hostid: number;
  Nsid: number;
  Maprange: number;
}

function entries(json: string | undefined): IdmapEntry[] {
  if (!json) return [];
  try {
    const v = JSON.parse(json) as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter(
      (e): e is IdmapEntry =>
        e !== null &&
        typeof e === 'object' &&
        ['Hostid', 'Nsid', 'Maprange'].every((k) => Number.isSafeInteger((e as Record<string, unknown>)[k])),
    );
  } catch {
    return [];
  }
}

/**
 * An id inside the instance as the node sees it, from the instance's `volatile.idmap.*` config
 * (LXD's JSON list of ranges); undefined when no range covers it.
 */
export function nodeSideId(idmapJson: string | undefined, id: number, kind: 'uid' | 'gid'): number | undefined {
  for (const e of entries(idmapJson)) {
    if (!(kind === 'uid' ? e.Isuid : e.Isgid)) continue;
    if (id >= e.Nsid && id < e.Nsid + e.Maprange) return e.Hostid + (id - e.Nsid);
  }
  return undefined;
}
