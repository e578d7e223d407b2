/**
 * The three-way sync's decision for each path, from the laptop's file now, the workspace's file
 * now (the node's scan: only what differs from the base) and the base (what the last sync left):
 * changed only on the laptop → sent (or deleted); changed only in the workspace → kept; changed
 * on both → a conflict, nothing written, unless both now hold the same thing. Pure: no I/O.
 */
import type { NodeEntryKind, NodeStatKey } from '../../agent/protocol';
import type { SyncConflict } from '../protocol';
import type { LocalFile } from './fileList';
import type { BaseEntry, LaptopBase, SyncBase } from './syncState';

/** What the node's scan found at a path that differs from the base (absent id: nothing there). */
export interface NodeNow {
  kind?: NodeEntryKind;
  id?: string;
  stat?: NodeStatKey;
}

export interface PlanInput {
  local: readonly LocalFile[];
  base: SyncBase;
  /** The scan's changes by path; a path not here holds what the base says. */
  node: ReadonlyMap<string, NodeNow>;
  /** Content ids of laptop files, where they were hashed (see pathsToHash). */
  localIds: ReadonlyMap<string, string>;
  /** Laptop wins: conflicts are applied and listed as replaced. */
  overwrite?: boolean;
}

export interface SyncPlan {
  send: LocalFile[];
  delete: string[];
  conflicts: SyncConflict[];
  /** With overwrite: the conflicts whose laptop side was applied. */
  replaced: SyncConflict[];
  /** Paths only the workspace changed. */
  kept: number;
  unchanged: number;
  /** The next base for every path but the ones sent (recorded once their bytes are on the node). */
  base: SyncBase;
}

export function laptopStatSame(f: LocalFile, b: LaptopBase | undefined): boolean {
  return !!b && f.size === b.size && f.mtimeMs === b.mtimeMs && f.mode === b.mode;
}

/** Laptop files whose content must be known to decide: present, maybe changed, and the workspace changed too. */
export function pathsToHash(
  local: readonly LocalFile[],
  base: SyncBase,
  node: ReadonlyMap<string, NodeNow>,
): LocalFile[] {
  return local.filter((f) => {
    const n = node.get(f.path);
    return n !== undefined && n.id !== base.get(f.path)?.node?.id && !laptopStatSame(f, base.get(f.path)?.laptop);
  });
}

function laptopBase(f: LocalFile, id: string): LaptopBase {
  return { size: f.size, mtimeMs: f.mtimeMs, mode: f.mode, id };
}

function workspaceWord(now: NodeNow, b: BaseEntry | undefined): SyncConflict['workspace'] {
  if (!now.id) return 'deleted';
  if (now.kind === 'folder' || now.kind === 'blocked' || now.kind === 'special') return now.kind;
  return b?.node ? 'modified' : 'added';
}

export function planSync(input: PlanInput): SyncPlan {
  const { base, node, localIds } = input;
  const plan: SyncPlan = { send: [], delete: [], conflicts: [], replaced: [], kept: 0, unchanged: 0, base: new Map() };
  const localByPath = new Map(input.local.map((f) => [f.path, f]));
  const paths = new Set([...localByPath.keys(), ...base.keys()]);
  for (const path of [...paths].sort()) {
    const f = localByPath.get(path);
    const b = base.get(path);
    const scanned = node.get(path);
    // Laptop: the base's stat still matches, or the content (when hashed) does.
    const localId = f ? (laptopStatSame(f, b?.laptop) ? b!.laptop!.id : localIds.get(path)) : undefined;
    const laptopChanged = f ? !b?.laptop || localId !== b.laptop.id : !!b?.laptop;
    const workspaceChanged = scanned !== undefined && scanned.id !== b?.node?.id;
    const nodeNow = workspaceChanged
      ? scanned
      : b?.node
        ? { id: b.node.id, stat: scanned?.stat ?? b.node.stat }
        : undefined;
    const keep = () => {
      if (b)
        plan.base.set(path, {
          ...b,
          ...(b.node && !workspaceChanged && scanned?.stat ? { node: { id: b.node.id, stat: scanned.stat } } : {}),
        });
    };
    const applyLaptop = () => {
      if (f) plan.send.push(f);
      else if (nodeNow?.id) plan.delete.push(path);
    };
    if (!laptopChanged && !workspaceChanged) {
      plan.unchanged++;
      keep();
    } else if (!workspaceChanged) {
      applyLaptop();
    } else if (!laptopChanged) {
      plan.kept++;
      keep();
    } else if (f && localId !== undefined && localId === scanned.id) {
      // Both made the same change: nothing to send, and this is the new base.
      plan.unchanged++;
      plan.base.set(path, {
        laptop: laptopBase(f, localId),
        node: { id: localId, ...(scanned.stat ? { stat: scanned.stat } : {}) },
      });
    } else if (!f && !scanned.id) {
      plan.unchanged++; // deleted on both sides
    } else {
      const conflict: SyncConflict = {
        path,
        local: !f ? 'deleted' : b?.laptop ? 'modified' : 'added',
        workspace: workspaceWord(scanned, b),
      };
      if (input.overwrite) {
        plan.replaced.push(conflict);
        applyLaptop();
      } else {
        plan.conflicts.push(conflict);
        keep();
      }
    }
  }
  return plan;
}
