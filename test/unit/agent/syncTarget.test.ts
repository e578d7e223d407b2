import assert from 'node:assert/strict';
import { AgentError } from '../../../agent/errors';
import { checkedLogin, syncTarget } from '../../../agent/workspaces/syncTarget';
import type { WorkspaceRecord } from '../../../agent/workspaces/state';

const rec = (login?: { uid: number; gid: number }): WorkspaceRecord => ({
  spec: {
    name: 'w',
    provider: 'docker',
    env: {},
    user: 'dev',
    workspaceFolder: '/workspaces/w',
    authorizedKeys: [],
    docker: { image: 'i' },
  },
  provider: 'docker',
  hostKey: { type: 'ssh-ed25519', publicKey: 'k', fingerprint: 'f' },
  hostKeyFile: '/k',
  nodeFolder: '/home/a/workspaces/w/src',
  createdAt: '2026-01-01T00:00:00Z',
  phase: 'ready',
  ...(login ? { login } : {}),
});

describe('whom synced files belong to comes from the checked workspace record', () => {
  it('gives files to a recorded non-root login user only when the agent is root', () => {
    assert.deepEqual(syncTarget(rec({ uid: 1000, gid: 1000 }), 0), {
      nodeFolder: '/home/a/workspaces/w/src',
      owner: { uid: 1000, gid: 1000 },
    });
    assert.deepEqual(syncTarget(rec({ uid: 1000, gid: 1000 }), 1000), { nodeFolder: '/home/a/workspaces/w/src' });
    assert.deepEqual(syncTarget(rec(), 0), { nodeFolder: '/home/a/workspaces/w/src' });
  });

  it('refuses ids that are not a uid a file can have, and treats uid 0 as root', () => {
    for (const bad of [
      { uid: -1, gid: 0 },
      { uid: 1.5, gid: 0 },
      { uid: 0xffffffff, gid: 0 },
      { uid: 1000, gid: Number.NaN },
    ]) {
      assert.throws(
        () => syncTarget(rec(bad), 0),
        (err: unknown) => err instanceof AgentError && err.code === 'INTERNAL' && /no valid uid\/gid/.test(err.message),
      );
    }
    assert.equal(checkedLogin('w', { uid: 0, gid: 0 }), undefined);
  });
});
