/**
 * The Remote Nodes view as text, from the replies the extension gets (the same data as
 * `node status --json`, `workspace list --json`, `workspace status --json` and `workspace ports --json`),
 * through the view's pure model: one line per row, indented by depth, `label · description [contextValue]`.
 * Tests check what the tree shows of real workspaces with it (a running workspace's services open).
 */
import type { NodeSummary, PortInfo, ServiceStatus, WorkspaceSummary } from '../../coordinator/protocol';
import { clusterChildren, clusterItem, memberItem, nodeChildren } from '../../extension/views/nodes/clusterTreeModel';
import {
  messageItem,
  nodeItem,
  serviceItem,
  workspaceItem,
  type ItemSpec,
  type TreeElement,
} from '../../extension/views/nodes/nodeTreeModel';
import { portItem, workspaceChildren } from '../../extension/views/nodes/portTreeModel';

export interface TreeData {
  nodes: readonly NodeSummary[];
  workspaces: readonly WorkspaceSummary[];
  /** Per running workspace name: its services and ports, as the view fetches them on expand. */
  services?: Record<string, { services: readonly ServiceStatus[]; ports: readonly PortInfo[] }>;
}

export function treeRows(data: TreeData): string[] {
  const out: string[] = [];
  const row = (depth: number, spec: ItemSpec) =>
    out.push(
      `${'  '.repeat(depth)}${spec.label}${spec.description ? ` · ${spec.description}` : ''} [${spec.contextValue}]`,
    );
  const walk = (e: TreeElement, depth: number): void => {
    switch (e.kind) {
      case 'node': {
        const children = nodeChildren(e.node, data.workspaces);
        row(depth, nodeItem(e.node, children.length > 0));
        children.forEach((c) => walk(c, depth + 1));
        return;
      }
      case 'cluster':
        row(depth, clusterItem(e));
        clusterChildren(e, data.workspaces).forEach((c) => walk(c, depth + 1));
        return;
      case 'member':
        return void row(depth, memberItem(e));
      case 'workspace': {
        row(depth, workspaceItem(e.workspace));
        const open = data.services?.[e.workspace.name];
        if (e.workspace.state === 'running' && open)
          workspaceChildren(e.workspace, open.services, open.ports).forEach((c) => walk(c, depth + 1));
        return;
      }
      case 'service':
        return void row(depth, serviceItem(e.workspace, e.service, e.port));
      case 'port':
        return void row(depth, portItem(e.workspace, e.port));
      case 'message':
        return void row(depth, messageItem(e));
    }
  };
  for (const node of data.nodes) walk({ kind: 'node', node }, 0);
  return out;
}
