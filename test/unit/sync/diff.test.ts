import assert from 'node:assert/strict';
import type { ManifestEntry } from '../../../agent/protocol';
import { planSync, sameMtime, type SyncedEntry } from '../../../coordinator/sync/diff';
import type { LocalFile } from '../../../coordinator/sync/fileList';

function local(path: string, size: number, mtimeMs: number, mode = 0o644): LocalFile {
  return { path, abs: `/p/${path}`, kind: 'file', size, mtimeMs, mtimeNs: BigInt(Math.round(mtimeMs * 1e6)), mode };
}
function remote(path: string, size: number, mtimeMs: number, mode = 0o100644): ManifestEntry {
  return { path, size, mtimeMs, mode };
}

describe('what a sync sends and deletes', () => {
  it('sends only new files and files whose size or mtime differ', () => {
    const plan = planSync(
      [local('same', 10, 1000.5), local('bigger', 11, 2000), local('touched', 5, 4500), local('new', 1, 1)],
      [remote('same', 10, 1000.5), remote('bigger', 10, 2000), remote('touched', 5, 3000)],
    );
    assert.deepEqual(plan.send.map((f) => f.path), ['bigger', 'touched', 'new']);
    assert.equal(plan.unchanged, 1);
    assert.deepEqual(plan.delete, []);
  });

  it('treats a node that kept whole seconds as equal, but not another second', () => {
    assert.ok(sameMtime(1_700_000_000_123.4, 1_700_000_000_000));
    assert.ok(sameMtime(1_700_000_000_123.4, 1_700_000_000_123.4));
    assert.ok(!sameMtime(1_700_000_000_123.4, 1_700_000_000_124.9), 'a node with better precision must match it');
    assert.ok(!sameMtime(1_700_000_001_000, 1_700_000_000_000));
  });

  it('sends a file whose executable bit changed', () => {
    const plan = planSync([local('run.sh', 3, 1000, 0o755)], [remote('run.sh', 3, 1000, 0o100644)]);
    assert.deepEqual(plan.send.map((f) => f.path), ['run.sh']);
    assert.equal(planSync([local('run.sh', 3, 1000, 0o755)], [remote('run.sh', 3, 1000, 0o100775)]).send.length, 0, 'other mode bits depend on the node');
  });

  it('deletes only files it sent before, that are gone here and unchanged there', () => {
    const last = new Map<string, SyncedEntry>([
      ['gone', { size: 4, mtimeMs: 1000 }],
      ['gone-but-edited-there', { size: 4, mtimeMs: 1000 }],
      ['kept', { size: 1, mtimeMs: 1 }],
    ]);
    const plan = planSync(
      [local('kept', 1, 1)],
      [remote('kept', 1, 1), remote('gone', 4, 1000), remote('gone-but-edited-there', 9, 5000), remote('made-in-the-workspace', 3, 3), remote('node_modules/x.js', 2, 2)],
      last,
    );
    assert.deepEqual(plan.delete, ['gone']);
    assert.deepEqual(plan.send, []);
  });

  it('deletes nothing when there is no record of an earlier sync', () => {
    assert.deepEqual(planSync([], [remote('a', 1, 1)]).delete, []);
  });
});
