/** workspaces/syncScan and workspaces/syncRead (see protocol/sync.ts), checked at the boundary. */
import {
  SYNC_SCAN_MAX_ENTRIES,
  type NodeStatKey,
  type SyncReadParams,
  type SyncReadResult,
  type SyncScanEntry,
  type SyncScanParams,
  type SyncScanResult,
} from '../protocol';
import type { HandlerSpec } from '../daemon/context';
import { relativeSegments, UnsafePath } from '../sync/safePath';
import { invalid } from './validate';
import { validName } from './workspaceParams';
import { isObj } from './specChecks';

const STAT_FIELDS = ['size', 'mtimeMs', 'ctimeMs', 'ino', 'mode'] as const;

export function validPath(method: string, v: unknown): string {
  if (typeof v !== 'string') throw invalid(method, 'path must be a string');
  try {
    relativeSegments(v);
  } catch (err) {
    if (err instanceof UnsafePath) throw invalid(method, `path ${err.message}`);
    throw err;
  }
  return v;
}

function validEntry(method: string, v: unknown): SyncScanEntry {
  if (!isObj(v)) throw invalid(method, 'each entry must be an object {path, id?, stat?}');
  const out: SyncScanEntry = { path: validPath(method, v.path) };
  if (v.id !== undefined) {
    if (typeof v.id !== 'string' || v.id.length > 80) throw invalid(method, 'id must be a content id');
    out.id = v.id;
  }
  if (v.stat !== undefined) {
    const st = v.stat;
    if (!isObj(st) || !STAT_FIELDS.every((k) => typeof st[k] === 'number'))
      throw invalid(method, `stat must hold the numbers ${STAT_FIELDS.join(', ')}`);
    out.stat = Object.fromEntries(STAT_FIELDS.map((k) => [k, st[k]])) as unknown as NodeStatKey;
  }
  return out;
}

export function validateScanParams(raw: unknown): SyncScanParams {
  const m = 'workspaces/syncScan';
  if (!isObj(raw) || !Array.isArray(raw.entries)) throw invalid(m, 'expected an object {name, entries}');
  if (raw.entries.length > SYNC_SCAN_MAX_ENTRIES)
    throw invalid(m, `at most ${SYNC_SCAN_MAX_ENTRIES} entries per request, got ${raw.entries.length}`);
  return { name: validName(m, raw.name), entries: raw.entries.map((e) => validEntry(m, e)) };
}

export function validateReadParams(raw: unknown): SyncReadParams {
  const m = 'workspaces/syncRead';
  if (!isObj(raw)) throw invalid(m, 'expected an object {name, path}');
  return { name: validName(m, raw.name), path: validPath(m, raw.path) };
}

export const syncScan: HandlerSpec<SyncScanParams, SyncScanResult> = {
  validate: validateScanParams,
  handle: async (p, { daemon }) => ({ changes: await daemon.workspaces.syncScan(p.name, p.entries) }),
};

export const syncRead: HandlerSpec<SyncReadParams, SyncReadResult> = {
  validate: validateReadParams,
  handle: (p, { daemon }) => daemon.workspaces.syncRead(p.name, p.path),
};
