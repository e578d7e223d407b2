/**
 * The Remote Nodes tree: nodes → workspaces → services. Data comes from the coordinator: the
 * first fetch when the view shows, then the didChange notifications (no polling). A failed
 * fetch becomes an error item in the tree, never a popup. RefreshManager decides when to fire.
 */
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  ListNodes,
  ListPortsRequest,
  ListServicesRequest,
  ListWorkspacesRequest,
  NodeStatusRequest,
  type NodeStatus,
  type NodeSummary,
  type PortInfo,
  type WorkspaceServices,
  type WorkspaceSummary,
} from '../../../coordinator/protocol';
import type { CoordinatorClient } from '../../client/coordinatorClient';
import { errorInfo } from '../../errors';
import { clusterChildren, clusterItem, memberItem, membersOf, nodeChildren } from './clusterTreeModel';
import {
  messageItem,
  nodeItem,
  nodeTooltip,
  serviceItem,
  showWelcome,
  sortNodes,
  workspaceItem,
  type TreeElement,
} from './nodeTreeModel';
import { markdownTooltip, toTreeItem } from './NodesTreeItem';
import { portItem, workspaceChildren } from './portTreeModel';

interface ServicesEntry {
  services?: WorkspaceServices;
  ports?: PortInfo[];
  /** The coordinator has no services requests yet. */
  unsupported?: boolean;
  error?: unknown;
}

const serviceKey = (node: string, name: string) => `${node}/${name}`;

export class NodesTreeProvider implements vscode.TreeDataProvider<TreeElement>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<TreeElement | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;

  private nodes: NodeSummary[] | undefined;
  private workspaces: WorkspaceSummary[] | undefined;
  private loadError: unknown;
  private loading: Promise<void> | undefined;
  private probing: Promise<void> | undefined;
  private readonly services = new Map<string, ServicesEntry>();
  private readonly homedir = os.homedir();

  constructor(private readonly client: CoordinatorClient) {}

  /** The last lists the tree showed (commands use them for their quick picks). */
  get snapshot(): { nodes: NodeSummary[] | undefined; workspaces: WorkspaceSummary[] | undefined } {
    return { nodes: this.nodes, workspaces: this.workspaces };
  }

  /** Forget everything; the next getChildren fetches anew. */
  invalidate(): void {
    this.nodes = undefined;
    this.workspaces = undefined;
    this.loadError = undefined;
    this.services.clear();
  }

  fireChanged(): void {
    this.changeEmitter.fire(undefined);
  }

  setNodes(nodes: NodeSummary[]): void {
    this.nodes = nodes;
  }

  setWorkspaces(workspaces: WorkspaceSummary[]): void {
    this.workspaces = workspaces;
    // Services of workspaces that no longer run are gone.
    for (const key of [...this.services.keys()]) {
      if (!workspaces.some((w) => w.state === 'running' && serviceKey(w.node, w.name) === key))
        this.services.delete(key);
    }
  }

  setServices(s: WorkspaceServices): void {
    const key = serviceKey(s.node, s.name);
    const entry = this.services.get(key) ?? {};
    this.services.set(key, { ...entry, services: s, error: undefined });
  }

  /** The ports listening inside a workspace changed: its services and ports are fetched again when shown. */
  portsChanged(w: { name: string; node: string }): void {
    this.services.delete(serviceKey(w.node, w.name));
  }

  /** The ports the tree last fetched for a workspace (the auto-forward notices compare with them). */
  portsOf(w: { name: string; node: string }): PortInfo[] | undefined {
    return this.services.get(serviceKey(w.node, w.name))?.ports;
  }

  /**
   * Asks the coordinator for each node's live status (nodes/inspect, the request behind
   * `vendetta node status`), one request per node, all in parallel, so a coordinator that just
   * started reaches its nodes instead of listing them as unknown. The cached list shows
   * meanwhile; each answer replaces its node's row and calls `onAnswer` (a repaint). One probe
   * at a time: a second call while one runs gets the running one.
   */
  probeStatus(onAnswer: () => void): Promise<void> {
    this.probing ??= (async () => {
      if (this.nodes === undefined) await this.load();
      const names = (this.nodes ?? []).map((n) => n.name);
      await Promise.all(
        names.map(async (name) => {
          try {
            const [status] = await this.client.request(NodeStatusRequest, { name });
            if (status && this.replaceNode(status)) onAnswer();
          } catch {
            // The row keeps what the list said; Test Node tells why a node cannot be reached.
          }
        }),
      );
    })().finally(() => (this.probing = undefined));
    return this.probing;
  }

  /** Puts a fresh status in its node's place; false when the list no longer holds that node. */
  private replaceNode(status: NodeStatus): boolean {
    const at = this.nodes?.findIndex((n) => n.name === status.name) ?? -1;
    if (!this.nodes || at < 0) return false;
    const { system: _system, ...summary } = status;
    this.nodes = this.nodes.map((n, i) => (i === at ? summary : n));
    return true;
  }

  private load(): Promise<void> {
    if (!this.loading) {
      this.loading = (async () => {
        try {
          const [nodes, workspaces] = await Promise.all([
            this.client.request(ListNodes),
            this.client.optionalRequest(ListWorkspacesRequest, {}).then((w) => w ?? []),
          ]);
          this.nodes = nodes;
          this.workspaces = workspaces;
          this.loadError = undefined;
        } catch (err) {
          this.loadError = err;
        }
      })().finally(() => (this.loading = undefined));
    }
    return this.loading;
  }

  async getChildren(element?: TreeElement): Promise<TreeElement[]> {
    if (!element) {
      if (this.nodes === undefined || this.workspaces === undefined) await this.load();
      if (this.loadError !== undefined || !this.nodes) {
        const info = errorInfo(this.loadError);
        return [
          {
            kind: 'message',
            id: 'load-error',
            severity: 'error',
            label: 'Could not reach the coordinator',
            detail: info.message,
            ...(info.hint ? { hint: info.hint } : {}),
          },
        ];
      }
      const workspaces = this.workspaces ?? [];
      if (showWelcome(this.nodes, workspaces)) return [];
      return sortNodes(this.nodes).map((node) => ({ kind: 'node', node }));
    }
    if (element.kind === 'node') return nodeChildren(element.node, this.workspaces ?? []);
    if (element.kind === 'cluster') return clusterChildren(element, this.workspaces ?? []);
    if (element.kind === 'workspace') return this.serviceChildren(element.workspace);
    return [];
  }

  private async serviceChildren(w: WorkspaceSummary): Promise<TreeElement[]> {
    if (w.state !== 'running') return [];
    const key = serviceKey(w.node, w.name);
    let entry = this.services.get(key);
    if (!entry || (!entry.services && !entry.unsupported && entry.error === undefined)) {
      entry = await this.fetchServices(w);
      this.services.set(key, entry);
    }
    if (entry.unsupported)
      return [
        { kind: 'message', id: `${key}/unsupported`, severity: 'info', label: 'Services need a newer coordinator' },
      ];
    if (entry.error !== undefined || !entry.services) {
      const info = errorInfo(entry.error);
      return [
        {
          kind: 'message',
          id: `${key}/error`,
          severity: 'error',
          label: 'Could not list services',
          detail: info.message,
          ...(info.hint ? { hint: info.hint } : {}),
        },
      ];
    }
    return workspaceChildren(w, entry.services.services, entry.ports ?? []);
  }

  private async fetchServices(w: WorkspaceSummary): Promise<ServicesEntry> {
    const ref = { name: w.name, node: w.node };
    try {
      const services = await this.client.optionalRequest(ListServicesRequest, ref);
      if (!services) return { unsupported: true };
      const ports = await this.client.optionalRequest(ListPortsRequest, ref).catch(() => undefined);
      return { services, ...(ports ? { ports } : {}) };
    } catch (err) {
      return { error: err };
    }
  }

  getTreeItem(element: TreeElement): vscode.TreeItem {
    switch (element.kind) {
      case 'node':
        return toTreeItem(nodeItem(element.node, nodeChildren(element.node, this.workspaces ?? []).length > 0));
      case 'cluster':
        return toTreeItem(clusterItem(element));
      case 'member':
        return toTreeItem(memberItem(element));
      case 'workspace':
        return toTreeItem(workspaceItem(element.workspace, this.homedir));
      case 'service':
        return toTreeItem(serviceItem(element.workspace, element.service, element.port));
      case 'port':
        return toTreeItem(portItem(element.workspace, element.port));
      case 'message':
        return toTreeItem(messageItem(element));
    }
  }

  /** A node's tooltip gains its system figures (nodes/inspect asks its agent) when hovered. */
  async resolveTreeItem(
    item: vscode.TreeItem,
    element: TreeElement,
    token: vscode.CancellationToken,
  ): Promise<vscode.TreeItem> {
    if (element.kind !== 'node' || element.node.status !== 'online') return item;
    try {
      const [status] = await this.client.request(NodeStatusRequest, { name: element.node.name }, token);
      if (status?.system) item.tooltip = markdownTooltip(nodeTooltip(status, status.system));
    } catch {
      // The plain tooltip stays.
    }
    return item;
  }

  getParent(element: TreeElement): TreeElement | undefined {
    if (element.kind === 'workspace') {
      const node = this.nodes?.find((n) => n.name === element.workspace.node);
      return node ? { kind: 'node', node } : undefined;
    }
    if (element.kind === 'service' || element.kind === 'port')
      return { kind: 'workspace', workspace: element.workspace };
    if (element.kind === 'cluster') return { kind: 'node', node: element.node };
    if (element.kind === 'member') return { kind: 'cluster', node: element.node, members: membersOf(element.node) };
    return undefined;
  }

  dispose(): void {
    this.changeEmitter.dispose();
  }
}
