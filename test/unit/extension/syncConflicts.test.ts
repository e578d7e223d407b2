import assert from 'node:assert/strict';
import type { SyncConflict, WorkspaceUpResult } from '../../../coordinator/protocol';
import {
  conflictItems,
  conflictNotice,
  conflictSetOf,
  KEEP_WORKSPACE,
  parseWorkspaceFileQuery,
  TAKE_LOCAL,
  walkConflicts,
  workspaceFileQuery,
  workspaceSideText,
  type ConflictItem,
  type ConflictSet,
  type ConflictUi,
} from '../../../extension/sync/conflictModel';

const both: SyncConflict = { path: 'README.md', local: 'modified', workspace: 'modified' };
const gone: SyncConflict = { path: 'src/old.ts', local: 'deleted', workspace: 'modified' };
const set: ConflictSet = { name: 'shop', node: 'b1', root: '/p/shop', conflicts: [both, gone], total: 2 };

function upResult(sync: Partial<NonNullable<WorkspaceUpResult['sync']>> | null): WorkspaceUpResult {
  return {
    name: 'shop',
    node: 'b1',
    provider: 'docker',
    state: 'running',
    sshHost: 'shop.b1.vendetta',
    createdAt: '',
    workspaceFolder: '/workspaces/shop',
    projectPath: '/p/shop',
    existed: true,
    git: null,
    elapsedMs: 1,
    warnings: [],
    sync: sync && {
      files: 3,
      sent: 0,
      bytes: 0,
      deleted: 0,
      kept: 0,
      conflicts: [],
      conflictCount: 0,
      elapsedMs: 1,
      ...sync,
    },
  };
}

/** A UI that answers from scripts and records what it was asked. */
function fakeUi(picks: Array<string | undefined>, choices: Array<string | undefined>) {
  const seen: string[] = [];
  const ui: ConflictUi = {
    pick: async (items: ConflictItem[]) => {
      seen.push(`pick ${items.map((i) => i.label).join(',')}`);
      const want = picks.shift();
      return items.find((i) => i.label === want);
    },
    diff: async (_s, c) => void seen.push(`diff ${c.path}`),
    choose: async (message, options) => {
      seen.push(`choose ${options.join('/')}: ${message}`);
      return choices.shift();
    },
    info: (m) => void seen.push(`info ${m}`),
  };
  return { ui, seen };
}

describe('VS Code walks a person through the sync conflicts an up left', () => {
  it('has something to show only when the up left conflicts', () => {
    assert.equal(conflictSetOf(upResult(null)), undefined, 'a --git workspace has no sync');
    assert.equal(conflictSetOf(upResult({})), undefined);
    assert.deepEqual(conflictSetOf(upResult({ conflicts: [both], conflictCount: 1 })), {
      name: 'shop',
      node: 'b1',
      root: '/p/shop',
      conflicts: [both],
      total: 1,
    });
    assert.equal(
      conflictNotice({ ...set, total: 1 }),
      "1 file was changed both here and in shop since the last sync; the workspace's version was kept.",
    );
    assert.match(conflictNotice(set), /^2 files were changed/);
  });

  it('lists each conflict with what happened on each side', () => {
    assert.deepEqual(
      conflictItems([gone]).map((i) => [i.label, i.description]),
      [['src/old.ts', 'deleted here, modified in the workspace']],
    );
  });

  it('diffs, then takes the local version or keeps the workspace one, until none is left', async () => {
    const { ui, seen } = fakeUi(['README.md', 'src/old.ts'], [TAKE_LOCAL, KEEP_WORKSPACE]);
    const calls: string[] = [];
    const left = await walkConflicts(set, ui, async (s, c, take) => {
      calls.push(`${s.name}/${s.node} ${c.path} ${take}`);
      return { path: c.path, take };
    });
    assert.deepEqual(left, []);
    assert.deepEqual(calls, ['shop/b1 README.md local', 'shop/b1 src/old.ts workspace']);
    assert.deepEqual(
      seen.filter((s) => !s.startsWith('choose') && !s.startsWith('info')),
      ['pick README.md,src/old.ts', 'diff README.md', 'pick src/old.ts', 'diff src/old.ts'],
    );
    assert.ok(
      seen.includes(
        `choose ${TAKE_LOCAL}/${KEEP_WORKSPACE}: README.md: modified here, modified in the workspace. Which version should the workspace have?`,
      ),
    );
  });

  it('settles nothing when the choice is dismissed, and stops when the pick is', async () => {
    const { ui } = fakeUi(['README.md', undefined], [undefined]);
    const calls: string[] = [];
    const left = await walkConflicts(set, ui, async (_s, c, take) => {
      calls.push(c.path);
      return { path: c.path, take };
    });
    assert.deepEqual([calls, left], [[], [both, gone]]);
  });

  it('shows the workspace side as its text, or says why there is none', () => {
    assert.equal(
      workspaceSideText('a', {
        kind: 'file',
        content: Buffer.from('héllo\n').toString('base64'),
        encoding: 'base64',
        size: 7,
      }),
      'héllo\n',
    );
    assert.equal(workspaceSideText('a', { kind: 'symlink', content: '../b', encoding: 'utf8' }), 'symlink to ../b\n');
    assert.equal(workspaceSideText('a', {}), '(a is deleted in the workspace)\n');
    assert.equal(workspaceSideText('a', { kind: 'folder' }), '(a is a folder in the workspace)\n');
    assert.equal(
      workspaceSideText('a', { kind: 'file', size: 9_000_000 }),
      '(a is 9000000 bytes in the workspace, more than a diff shows)\n',
    );
  });

  it('names the workspace file of a diff in its URI query, odd paths included', () => {
    const q = workspaceFileQuery(set, 'dir/a b&c=d.md');
    assert.deepEqual(parseWorkspaceFileQuery(q), {
      name: 'shop',
      node: 'b1',
      path: 'dir/a b&c=d.md',
      deletedHere: false,
    });
    assert.equal(parseWorkspaceFileQuery(workspaceFileQuery(set, 'x', true))?.deletedHere, true);
    assert.equal(parseWorkspaceFileQuery('name=shop'), undefined);
  });
});
