import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeStatus, PortInfo, WorkspaceStatus, WorkspaceSummary } from '../../../coordinator/protocol';
import { treeRows } from '../../infra/treeRows';

/**
 * Replies recorded from a real run: examples/hello as an LXD workspace (LXD 5.0.2, the test image)
 * on the local node, through the built CLI's `--json` output, which carries the same data as the
 * requests the extension's tree makes (nodes/inspect, workspaces/list, services/list, ports/list).
 */
const recorded = <T>(name: string): T =>
  JSON.parse(readFileSync(join(__dirname, '../../fixtures/extension/lxd-hello', `${name}.json`), 'utf8')) as T;

describe('the Remote Nodes tree shows an LXD workspace and its services (replies recorded from a real LXD)', () => {
  const nodes = recorded<NodeStatus[]>('node-status');
  const workspaces = recorded<WorkspaceSummary[]>('workspace-list');
  const status = recorded<WorkspaceStatus>('workspace-status');
  const ports = recorded<PortInfo[]>('workspace-ports');

  it('the node, the running lxc workspace under it, and its three healthy services with their ports', () => {
    assert.deepEqual(treeRows({ nodes, workspaces, services: { hello: { services: status.services!, ports } } }), [
      'local · online · 47 ms · lxc qemu [localNode]',
      `  hello · running · lxc · ${workspaces[0]!.projectPath} [runningWorkspace]`,
      '    api · :3000 · healthy [healthyService]',
      '    db · :7070 · healthy [healthyService]',
      '    web · :8080 · healthy [healthyService]',
    ]);
  });

  it('a stopped LXD workspace shows no services; an LXD node that is not clustered has no cluster row', () => {
    const stopped = workspaces.map((w) => ({ ...w, state: 'stopped' as const }));
    assert.deepEqual(
      treeRows({ nodes, workspaces: stopped, services: { hello: { services: status.services!, ports } } }),
      [
        'local · online · 47 ms · lxc qemu [localNode]',
        `  hello · stopped · lxc · ${workspaces[0]!.projectPath} [stoppedWorkspace]`,
      ],
    );
  });
});
