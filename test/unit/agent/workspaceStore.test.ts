import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nullLogger } from '../../../agent/log/logger';
import { readWorkspaceState, WorkspaceStore, type WorkspaceRecord } from '../../../agent/workspaces/state';

const rec = (name: string, providerId: string): WorkspaceRecord => ({
  spec: {
    name,
    provider: 'lxc',
    env: {},
    user: 'root',
    workspaceFolder: `/workspaces/${name}`,
    authorizedKeys: [],
    lxc: { image: 'debian/12' },
  },
  provider: 'lxc',
  providerId,
  hostKey: { type: 'ssh-ed25519', publicKey: 'k', fingerprint: 'f' },
  hostKeyFile: '/k',
  nodeFolder: `/home/a/workspaces/${name}/src`,
  createdAt: '2026-01-01T00:00:00Z',
  phase: 'creating',
});

describe("the agent's workspace records on disk", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-store-'));
    file = join(dir, 'state', 'workspaces.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('putSoon: the record is known at once and on disk once its promise resolves', async () => {
    const store = new WorkspaceStore(file, nullLogger);
    const pending = store.putSoon(rec('a', 'vendetta-a'));
    assert.equal(store.get('a')?.providerId, 'vendetta-a');
    await pending;
    assert.equal(readWorkspaceState(file).get('a')?.providerId, 'vendetta-a');
    assert.deepEqual(readdirSync(join(dir, 'state')), ['workspaces.json']);
  });

  it('a background write never replaces a newer write that reached the disk first', async () => {
    const store = new WorkspaceStore(file, nullLogger);
    const older = store.putSoon(rec('a', 'first'));
    store.put(rec('a', 'second'));
    store.put(rec('b', 'other'));
    await older;
    const onDisk = readWorkspaceState(file);
    assert.equal(onDisk.get('a')?.providerId, 'second');
    assert.equal(onDisk.get('b')?.providerId, 'other');
    assert.equal(new WorkspaceStore(file, nullLogger).get('a')?.providerId, 'second');
    assert.deepEqual(readdirSync(join(dir, 'state')), ['workspaces.json']);
  });

  it('two background writes leave the newer one on disk, whichever finishes first', async () => {
    const store = new WorkspaceStore(file, nullLogger);
    await Promise.all([store.putSoon(rec('a', 'first')), store.putSoon(rec('a', 'second'))]);
    assert.equal(readWorkspaceState(file).get('a')?.providerId, 'second');
  });
});
