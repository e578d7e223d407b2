import assert from 'node:assert/strict';
import type { LocalFile } from '../../../coordinator/sync/fileList';
import { pathsToHash, planSync, type NodeNow, type PlanInput } from '../../../coordinator/sync/plan';
import type { BaseEntry, SyncBase } from '../../../coordinator/sync/syncState';

const STAT = { size: 1, mtimeMs: 5, ctimeMs: 5, ino: 7, mode: 0o100644 };

function local(path: string, size = 1, mtimeMs = 1000, mode = 0o644): LocalFile {
  return { path, abs: `/p/${path}`, kind: 'file', size, mtimeMs, mtimeNs: BigInt(mtimeMs * 1e6), mode };
}

/** A path both sides had as `id` after the last sync, the laptop's file with the stat of local(path). */
function synced(path: string, id = `f:${path}`): [string, BaseEntry] {
  return [path, { laptop: { size: 1, mtimeMs: 1000, mode: 0o644, id }, node: { id, stat: STAT } }];
}

function plan(p: Partial<PlanInput>) {
  return planSync({ local: [], base: new Map(), node: new Map(), localIds: new Map(), ...p });
}

const file = (id: string): NodeNow => ({ kind: 'file', id, stat: { ...STAT, mtimeMs: 9 } });

describe('the three-way sync decides each path from the laptop, the workspace and the last sync', () => {
  it('sends everything on the first sync into an empty folder', () => {
    const p = plan({ local: [local('a'), local('b/c')] });
    assert.deepEqual(
      p.send.map((f) => f.path),
      ['a', 'b/c'],
    );
    assert.deepEqual([p.conflicts, p.delete, p.kept], [[], [], 0]);
  });

  it('sends what only the laptop changed, and deletes what only the laptop deleted', () => {
    const base: SyncBase = new Map([synced('edited'), synced('same'), synced('gone')]);
    const p = plan({ local: [local('edited', 2), local('same'), local('new')], base });
    assert.deepEqual(
      p.send.map((f) => f.path),
      ['edited', 'new'],
    );
    assert.deepEqual(p.delete, ['gone']);
    assert.equal(p.unchanged, 1);
    assert.deepEqual([...p.base.keys()], ['same'], 'sent paths get their base once sent; deleted ones none');
  });

  it('keeps what only the workspace changed or deleted, and the base stays what the last sync left', () => {
    const base: SyncBase = new Map([synced('edited-inside'), synced('deleted-inside')]);
    const node = new Map<string, NodeNow>([
      ['edited-inside', file('f:theirs')],
      ['deleted-inside', {}],
    ]);
    const p = plan({ local: [local('edited-inside'), local('deleted-inside')], base, node });
    assert.deepEqual([p.send, p.delete, p.conflicts, p.kept], [[], [], [], 2]);
    assert.deepEqual(p.base.get('edited-inside'), base.get('edited-inside'));
  });

  it('reports a conflict when both changed, sends nothing, and keeps reporting it', () => {
    const base: SyncBase = new Map([synced('both'), synced('del-here'), synced('del-there')]);
    const node = new Map<string, NodeNow>([
      ['both', file('f:theirs')],
      ['del-here', file('f:theirs')],
      ['del-there', {}],
    ]);
    const localIds = new Map([
      ['both', 'f:mine'],
      ['del-there', 'f:mine'],
    ]);
    const p = plan({ local: [local('both', 2), local('del-there', 3)], base, node, localIds });
    assert.deepEqual(p.conflicts, [
      { path: 'both', local: 'modified', workspace: 'modified' },
      { path: 'del-here', local: 'deleted', workspace: 'modified' },
      { path: 'del-there', local: 'modified', workspace: 'deleted' },
    ]);
    assert.deepEqual([p.send, p.delete], [[], []]);
    assert.deepEqual(p.base, base, 'the base is unchanged, so the next sync finds the same conflicts');
  });

  it('takes the same change made on both sides as the new base, without sending it', () => {
    const base: SyncBase = new Map([synced('a')]);
    const node = new Map<string, NodeNow>([
      ['a', file('f:same')],
      ['b', file('f:new')],
    ]);
    const p = plan({
      local: [local('a', 2), local('b')],
      base,
      node,
      localIds: new Map([
        ['a', 'f:same'],
        ['b', 'f:new'],
      ]),
    });
    assert.deepEqual([p.send, p.conflicts], [[], []]);
    assert.deepEqual(p.base.get('a')?.node?.id, 'f:same');
    assert.deepEqual(p.base.get('b')?.laptop?.id, 'f:new');
  });

  it('never replaces a folder, a file in the way of a folder, or a FIFO the workspace put where a synced path goes', () => {
    const node = new Map<string, NodeNow>([
      ['dir', { kind: 'folder', id: 'd' }],
      ['a/b', { kind: 'blocked', id: 'b' }],
      ['fifo', { kind: 'special', id: 'o' }],
      ['own', file('f:x')],
    ]);
    const p = plan({
      local: [local('dir'), local('a/b'), local('fifo'), local('own')],
      node,
      localIds: new Map([['own', 'f:y']]),
    });
    assert.deepEqual(p.send, []);
    assert.deepEqual(
      p.conflicts.map((c) => [c.path, c.local, c.workspace]),
      [
        ['a/b', 'added', 'blocked'],
        ['dir', 'added', 'folder'],
        ['fifo', 'added', 'special'],
        ['own', 'added', 'added'],
      ],
    );
  });

  it('with overwrite, applies the laptop side of each conflict and lists it as replaced', () => {
    const base: SyncBase = new Map([synced('both'), synced('del-here')]);
    const node = new Map<string, NodeNow>([
      ['both', file('f:theirs')],
      ['del-here', file('f:theirs')],
      ['dir', { kind: 'folder', id: 'd' }],
    ]);
    const p = plan({
      local: [local('both', 2), local('dir')],
      base,
      node,
      localIds: new Map([['both', 'f:mine']]),
      overwrite: true,
    });
    assert.deepEqual(
      p.send.map((f) => f.path),
      ['both', 'dir'],
    );
    assert.deepEqual(p.delete, ['del-here']);
    assert.deepEqual(p.conflicts, []);
    assert.deepEqual(
      p.replaced.map((c) => c.path),
      ['both', 'del-here', 'dir'],
    );
  });

  it('counts a touched laptop file whose bytes did not change as unchanged when the workspace changed it', () => {
    const base: SyncBase = new Map([synced('a')]);
    const node = new Map<string, NodeNow>([['a', file('f:theirs')]]);
    const touched = local('a', 1, 2000);
    assert.deepEqual(pathsToHash([touched], base, node), [touched]);
    const p = plan({ local: [touched], base, node, localIds: new Map([['a', 'f:a']]) });
    assert.deepEqual([p.send, p.conflicts, p.kept], [[], [], 1]);
  });

  it('hashes only laptop files that may have changed where the workspace changed too', () => {
    const base: SyncBase = new Map([synced('still'), synced('moved'), synced('quiet')]);
    const node = new Map<string, NodeNow>([
      ['still', file('f:x')],
      ['moved', file('f:x')],
      ['fresh', file('f:x')],
      ['quiet', { stat: STAT, id: 'f:quiet' }],
    ]);
    const files = [local('still'), local('moved', 9), local('fresh'), local('quiet', 9), local('alone')];
    assert.deepEqual(
      pathsToHash(files, base, node).map((f) => f.path),
      ['moved', 'fresh'],
    );
  });

  it('takes a stat the node saw for unchanged content into the next base', () => {
    const base: SyncBase = new Map([synced('a')]);
    const p = plan({
      local: [local('a')],
      base,
      node: new Map([['a', { id: 'f:a', stat: { ...STAT, ctimeMs: 99 } }]]),
    });
    assert.equal(p.unchanged, 1);
    assert.equal(p.base.get('a')?.node?.stat?.ctimeMs, 99);
  });
});
