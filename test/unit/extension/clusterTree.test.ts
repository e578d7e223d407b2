import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterFrom } from '../../../agent/providers/lxc/detect';
import type { NodeSummary, WorkspaceSummary } from '../../../coordinator/protocol';
import {
  clusterChildren,
  clusterItem,
  memberItem,
  nodeChildren,
} from '../../../extension/views/nodes/clusterTreeModel';
import { CONTEXT_VALUES, nodeItem, type TreeElement } from '../../../extension/views/nodes/nodeTreeModel';

const fixture = (name: string) => readFileSync(join(__dirname, '../../fixtures/agent', name), 'utf8');

/** The members as `node status --json` carries them, from replies recorded on a real 3-member LXD 5.0.2 cluster with m2 stopped. */
const recorded = clusterFrom(
  { ok: true, status: 200, body: fixture('lxd-cluster-members-m2-offline.json') },
  { ok: true, status: 200, body: fixture('lxd-instances-member-offline.json') },
)!;

function clusterNode(cluster = recorded): NodeSummary {
  return {
    name: 'lab',
    host: '10.0.0.5',
    port: 22,
    user: 'dev',
    transport: 'ssh',
    status: 'online',
    latencyMs: 2,
    agentVersion: '0.1.0',
    providers: {
      docker: { available: false },
      lxc: { available: true, version: '5.0.2', projectFolder: 'shift', cluster },
      qemu: { available: false, kvm: false },
    },
    lastSeen: null,
  };
}

function ws(name: string, over: Partial<WorkspaceSummary> = {}): WorkspaceSummary {
  return {
    name,
    node: 'lab',
    provider: 'lxc',
    state: 'running',
    sshHost: `${name}.lab.vendetta`,
    createdAt: '2026-12-05T10:00:00Z',
    workspaceFolder: `/workspaces/${name}`,
    ...over,
  };
}

const workspaces = [
  ws('shop', { member: 'm2', state: 'error', error: { code: 'PROVIDER_ERROR', message: 'm2 is offline' } }),
  ws('blog', { member: 'm1' }),
  ws('elsewhere', { node: 'other' }),
];

describe('the Remote Nodes tree shows the members of a clustered LXD under its node', () => {
  it('a clustered node holds one LXD cluster row before its workspaces, and expands', () => {
    const node = clusterNode();
    const children = nodeChildren(node, workspaces);
    assert.deepEqual(
      children.map((c) => (c.kind === 'workspace' ? `workspace ${c.workspace.name}` : c.kind)),
      ['cluster', 'workspace blog', 'workspace shop'],
    );
    assert.equal(nodeItem(node, children.length > 0).collapsible, 'expanded');
  });

  it('the cluster row counts the members and names the one that is down; it opens by itself then', () => {
    const [cluster] = nodeChildren(clusterNode(), workspaces) as [Extract<TreeElement, { kind: 'cluster' }>];
    const item = clusterItem(cluster);
    assert.deepEqual(
      [item.id, item.label, item.description, item.contextValue, item.collapsible],
      ['cluster:lab', 'LXD cluster', '3 members · m2 offline', 'lxdCluster', 'expanded'],
    );
    const allUp = clusterItem({
      kind: 'cluster',
      node: clusterNode(),
      members: recorded.map((m) => ({ ...m, status: 'Online', message: 'Fully operational' })),
    });
    assert.deepEqual([allUp.description, allUp.collapsible], ['3 members · all online', 'collapsed']);
  });

  it('each member: status, roles and instances; an offline one says LXD’s reason, in red; its workspaces in the tooltip', () => {
    const [cluster] = nodeChildren(clusterNode(), workspaces) as [Extract<TreeElement, { kind: 'cluster' }>];
    const members = clusterChildren(cluster, workspaces).map((e) =>
      memberItem(e as Extract<TreeElement, { kind: 'member' }>),
    );
    assert.deepEqual(
      members.map((m) => [m.label, m.contextValue, m.icon.color]),
      [
        ['m1', 'onlineMember', 'charts.green'],
        ['m2', 'unavailableMember', 'errorForeground'],
        ['m3', 'onlineMember', 'charts.green'],
      ],
    );
    assert.equal(members[0]!.description, 'online · database-leader, database · 0 instances');
    assert.match(
      members[1]!.description!,
      /^offline · No heartbeat for 20\.\d+s \(2026-12-05 [^)]+\) · database · 1 instance$/,
    );
    assert.match(members[1]!.tooltip, /^- workspaces here: shop \(error\)$/m);
    assert.match(members[0]!.tooltip, /^- workspaces here: blog \(running\)$/m);
    assert.match(members[2]!.tooltip, /^- workspaces here: none$/m);
    assert.match(members[0]!.tooltip, /^- roles: database\\-leader, database$/m, 'names are escaped Markdown');
  });

  it('a node whose LXD is not a cluster holds only its workspaces; without any it does not expand', () => {
    const single = clusterNode();
    delete single.providers!.lxc.cluster;
    assert.deepEqual(
      nodeChildren(single, workspaces).map((c) => c.kind),
      ['workspace', 'workspace'],
    );
    assert.deepEqual(nodeChildren(single, []), []);
    assert.deepEqual(nodeChildren({ ...single, providers: null }, []), []);
  });

  it('every contextValue it sets is a known one', () => {
    const [cluster] = nodeChildren(clusterNode(), workspaces) as [Extract<TreeElement, { kind: 'cluster' }>];
    const values = [
      clusterItem(cluster).contextValue,
      ...clusterChildren(cluster, []).map(
        (e) => memberItem(e as Extract<TreeElement, { kind: 'member' }>).contextValue,
      ),
    ];
    for (const v of values) assert.ok((CONTEXT_VALUES as readonly string[]).includes(v), v);
  });
});
