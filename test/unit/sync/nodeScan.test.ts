import assert from 'node:assert/strict';
import { SYNC_SCAN_MAX_ENTRIES, type SyncScanChange, type SyncScanParams } from '../../../agent/protocol';
import type { AgentClient } from '../../../coordinator/nodes/agentClient';
import { checkScanReply, scanNode } from '../../../coordinator/sync/nodeScan';
import type { SyncBase } from '../../../coordinator/sync/syncState';

describe('the coordinator asks the node about a big project in bounded pages', () => {
  it('sends at most SYNC_SCAN_MAX_ENTRIES paths per request, with the base, and maps the answers back', async () => {
    const pages: SyncScanParams[] = [];
    const client = {
      request: async (_type: unknown, p: SyncScanParams) => {
        pages.push(p);
        // Every path ending in 7 changed; p00001 only moved its stat.
        const changes = p.entries.flatMap((e, i): SyncScanChange[] =>
          e.path.endsWith('7')
            ? [{ i, kind: 'file' as const, id: `f:${e.path}` }]
            : e.path === 'p00001'
              ? [{ i, stat: { size: 1, mtimeMs: 1, ctimeMs: 9, ino: 1, mode: 1 } }]
              : [],
        );
        return { changes };
      },
    } as unknown as AgentClient;
    const paths = Array.from({ length: 4500 }, (_, i) => `p${String(i).padStart(5, '0')}`);
    const base: SyncBase = new Map([['p00001', { node: { id: 'f:one' } }]]);
    const got = await scanNode({ client, node: 'n', workspace: 'w' }, paths, base);
    assert.deepEqual(
      pages.map((p) => p.entries.length).sort((a, b) => b - a),
      [SYNC_SCAN_MAX_ENTRIES, SYNC_SCAN_MAX_ENTRIES, 500],
    );
    assert.deepEqual(
      pages.flatMap((p) => p.entries).find((e) => e.path === 'p00001'),
      { path: 'p00001', id: 'f:one' },
    );
    assert.equal(got.size, 450 + 1);
    assert.deepEqual(got.get('p04497'), { kind: 'file', id: 'f:p04497' });
    assert.deepEqual(
      got.get('p00001'),
      { id: 'f:one', stat: { size: 1, mtimeMs: 1, ctimeMs: 9, ino: 1, mode: 1 } },
      'a stat alone keeps the expected id',
    );
  });

  it('refuses an answer that names entries the page does not have, or is not a scan', () => {
    assert.throws(() => checkScanReply({ changes: [{ i: 3 }] }, 3, 'n'), /malformed sync scan/);
    assert.throws(() => checkScanReply({ changes: [{ i: 0, kind: 'door' }] }, 3, 'n'), /malformed/);
    assert.throws(() => checkScanReply({ changes: [{ i: 0, stat: { size: 1 } }] }, 3, 'n'), /malformed/);
    assert.throws(() => checkScanReply({ files: [] }, 3, 'n'), /malformed/);
    assert.throws(() => checkScanReply({ changes: [{ i: 0 }, { i: 1 }] }, 1, 'n'), /malformed/);
  });
});
