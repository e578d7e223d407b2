import assert from 'node:assert/strict';
import type { WorkspaceInfo } from '../../../agent/protocol';
import { VendettaError } from '../../../coordinator/errors';
import { KnownStates } from '../../../coordinator/workspaces/knownStates';
import type { WorkspaceRecord } from '../../../coordinator/workspaces/store';

const record: WorkspaceRecord = {
  name: 'shop',
  node: 'lab',
  provider: 'lxc',
  sshHost: 'shop.lab.vendetta',
  workspaceFolder: '/workspaces/shop',
  user: 'root',
  createdAt: '2026-12-05T10:00:00Z',
};

const info = (over: Partial<WorkspaceInfo> = {}): WorkspaceInfo => ({
  name: 'shop',
  provider: 'lxc',
  state: 'running',
  image: 'debian/12',
  user: 'root',
  workspaceFolder: '/workspaces/shop',
  nodeFolder: '/n/shop',
  ssh: null,
  createdAt: '2026-12-05T10:00:00Z',
  ...over,
});

describe('what the coordinator remembers of a workspace on a clustered LXD', () => {
  it('the list row carries the member that runs it, and keeps it while the node cannot be asked', () => {
    const known = new KnownStates();
    assert.equal(known.summary(record).member, undefined, 'nothing said yet');
    known.note(record, info({ member: 'm2' }));
    assert.equal(known.summary(record).member, 'm2');
    known.note(record, undefined, new VendettaError('AGENT_ERROR', 'The cluster member m2 … is offline'));
    assert.deepEqual([known.summary(record).state, known.summary(record).member], ['error', 'm2']);
    // Gone from the node: no member any more; a workspace off any cluster has none.
    known.note(record, undefined);
    assert.equal(known.summary(record).member, undefined);
    known.note(record, info());
    assert.equal(known.summary(record).member, undefined);
  });
});
