/**
 * What the last sync of each workspace left on both sides (the base of the three-way sync), in
 * `$VENDETTA_HOME/state/sync/<node>/<workspace>.json`: per synced path, the laptop file as it was
 * sent (stat + content id) and the content id it left on the node (+ the node's stat of it, once
 * a scan saw it). Hashes only, never copies. A record that is missing, unreadable or from an
 * older vendetta counts as empty: every path both sides hold then compares by content, so losing
 * it costs a conflict at worst, never an overwrite.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeStatKey } from '../../agent/protocol';
import type { HomePaths } from '../home';
import { writeFileAtomicSync } from '../../common/fs/atomicWrite';

/** The laptop's file as the last sync sent it. */
export interface LaptopBase {
  size: number;
  mtimeMs: number;
  mode: number;
  id: string;
}

/** What the last sync left on the node. */
export interface NodeBase {
  id: string;
  stat?: NodeStatKey;
}

export interface BaseEntry {
  laptop?: LaptopBase;
  node?: NodeBase;
}

export type SyncBase = Map<string, BaseEntry>;

const VERSION = 2;
type Row = [string, [number, number, number, string] | 0, [string, NodeStatKey?] | 0];

function isStat(v: unknown): v is NodeStatKey {
  const s = v as Record<string, unknown> | null;
  return !!s && ['size', 'mtimeMs', 'ctimeMs', 'ino', 'mode'].every((k) => typeof s[k] === 'number');
}

function entryOf(row: unknown): [string, BaseEntry] | undefined {
  if (!Array.isArray(row) || typeof row[0] !== 'string') return undefined;
  const [path, l, n] = row as unknown[];
  const e: BaseEntry = {};
  if (
    Array.isArray(l) &&
    typeof l[0] === 'number' &&
    typeof l[1] === 'number' &&
    typeof l[2] === 'number' &&
    typeof l[3] === 'string'
  ) {
    e.laptop = { size: l[0], mtimeMs: l[1], mode: l[2], id: l[3] };
  }
  if (Array.isArray(n) && typeof n[0] === 'string') e.node = { id: n[0], ...(isStat(n[1]) ? { stat: n[1] } : {}) };
  return e.laptop || e.node ? [path as string, e] : undefined;
}

export class SyncStateStore {
  constructor(private readonly dir: string) {}

  static forHome(paths: HomePaths): SyncStateStore {
    return new SyncStateStore(join(paths.stateDir, 'sync'));
  }

  private file(node: string, workspace: string): string {
    return join(this.dir, node, `${workspace}.json`);
  }

  load(node: string, workspace: string): SyncBase {
    const out: SyncBase = new Map();
    let parsed: { version?: unknown; files?: unknown };
    try {
      parsed = JSON.parse(readFileSync(this.file(node, workspace), 'utf8')) as typeof parsed;
    } catch {
      return out;
    }
    if (parsed?.version !== VERSION || !Array.isArray(parsed.files)) return out;
    for (const row of parsed.files) {
      const e = entryOf(row);
      if (e) out.set(e[0], e[1]);
    }
    return out;
  }

  save(node: string, workspace: string, base: SyncBase): void {
    const rows: Row[] = [...base].map(([p, e]) => [
      p,
      e.laptop ? [e.laptop.size, e.laptop.mtimeMs, e.laptop.mode, e.laptop.id] : 0,
      e.node ? (e.node.stat ? [e.node.id, e.node.stat] : [e.node.id]) : 0,
    ]);
    writeFileAtomicSync(this.file(node, workspace), JSON.stringify({ version: VERSION, files: rows }) + '\n', {
      mode: 0o600,
      createDir: true,
    });
  }

  remove(node: string, workspace: string): void {
    rmSync(this.file(node, workspace), { force: true });
  }
}
