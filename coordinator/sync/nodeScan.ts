/**
 * Asks the node which synced paths the workspace changed since the last sync
 * (`workspaces/syncScan`), in pages of SYNC_SCAN_MAX_ENTRIES so that no message grows with the
 * project, a few pages in flight to hide the round trips.
 */
import type { CancellationToken } from 'vscode-jsonrpc';
import {
  SYNC_SCAN_MAX_ENTRIES,
  SyncScan,
  type NodeEntryKind,
  type NodeStatKey,
  type SyncScanChange,
  type SyncScanEntry,
} from '../../agent/protocol';
import { VendettaError } from '../errors';
import type { AgentClient } from '../nodes/agentClient';
import type { NodeNow } from './plan';
import type { SyncBase } from './syncState';

const IN_FLIGHT = 4;
const KINDS: readonly NodeEntryKind[] = ['file', 'symlink', 'folder', 'special', 'blocked'];

function isStat(v: unknown): v is NodeStatKey {
  const s = v as Record<string, unknown> | null;
  return (
    !!s && typeof s === 'object' && ['size', 'mtimeMs', 'ctimeMs', 'ino', 'mode'].every((k) => typeof s[k] === 'number')
  );
}

/** The scan's reply, checked: every change names an entry of the page it answers. */
export function checkScanReply(reply: unknown, pageSize: number, node: string): SyncScanChange[] {
  const changes = (reply as { changes?: unknown } | null)?.changes;
  const bad = () =>
    new VendettaError('AGENT_ERROR', `The agent on ${node} sent a malformed sync scan`, {
      node,
      hint: 'Upgrade vendetta so the coordinator and the agent match.',
    });
  if (!Array.isArray(changes) || changes.length > pageSize) throw bad();
  return changes.map((raw: unknown) => {
    const c = raw as Partial<SyncScanChange> | null;
    if (!c || !Number.isInteger(c.i) || c.i! < 0 || c.i! >= pageSize) throw bad();
    if (c.kind !== undefined && !KINDS.includes(c.kind)) throw bad();
    if (c.id !== undefined && typeof c.id !== 'string') throw bad();
    if (c.stat !== undefined && !isStat(c.stat)) throw bad();
    return {
      i: c.i!,
      ...(c.kind ? { kind: c.kind } : {}),
      ...(c.id !== undefined ? { id: c.id } : {}),
      ...(c.stat ? { stat: c.stat } : {}),
    };
  });
}

export interface ScanOptions {
  client: AgentClient;
  node: string;
  workspace: string;
  token?: CancellationToken;
}

/** path → what the node holds there now, for each path whose node side differs from the base. */
export async function scanNode(
  o: ScanOptions,
  paths: readonly string[],
  base: SyncBase,
): Promise<Map<string, NodeNow>> {
  const out = new Map<string, NodeNow>();
  const pages: string[][] = [];
  for (let i = 0; i < paths.length; i += SYNC_SCAN_MAX_ENTRIES) pages.push(paths.slice(i, i + SYNC_SCAN_MAX_ENTRIES));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pages.length) {
      const page = pages[next++]!;
      const entries = page.map((path): SyncScanEntry => {
        const n = base.get(path)?.node;
        return { path, ...(n ? { id: n.id, ...(n.stat ? { stat: n.stat } : {}) } : {}) };
      });
      const reply = await o.client.request(SyncScan, { name: o.workspace, entries }, o.token);
      for (const c of checkScanReply(reply, page.length, o.node)) {
        // No kind but a stat: the same content as expected, only its stat moved.
        const id = c.kind ? c.id : c.stat ? entries[c.i]!.id : undefined;
        out.set(page[c.i]!, {
          ...(c.kind ? { kind: c.kind } : {}),
          ...(id !== undefined ? { id } : {}),
          ...(c.stat ? { stat: c.stat } : {}),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, pages.length) }, worker));
  return out;
}
