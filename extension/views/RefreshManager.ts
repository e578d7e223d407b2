/**
 * The one owner of every refresh trigger of the Remote Nodes tree: the Refresh command,
 * coordinator notifications, connection changes and settings. It debounces them and does
 * nothing while the view is hidden except remember that the tree is stale (no polling).
 * When the view shows, on Refresh, and after the coordinator came back while the view shows,
 * it asks once for every node's live status (a coordinator that just started knows its nodes
 * only as "unknown" until something contacts them); the rows update as the answers arrive.
 */
import * as vscode from 'vscode';
import type { ConnectionState, CoordinatorClient } from '../client/coordinatorClient';
import type { NodesTreeProvider } from './nodes/NodesTreeProvider';

/** `reload` fetches everything anew; `repaint` only re-renders data a notification brought. */
type Pending = 'none' | 'repaint' | 'reload';

const DEBOUNCE_MS = 100;

export function connectionMessage(s: ConnectionState): string | undefined {
  switch (s.kind) {
    case 'starting':
      return 'Starting the Vendetta coordinator…';
    case 'reconnecting':
      return 'The coordinator went away; reconnecting…';
    case 'stopped':
      return 'The coordinator is not running. Refresh starts it.';
    default:
      return undefined;
  }
}

export class RefreshManager implements vscode.Disposable {
  private pending: Pending = 'none';
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly tree: NodesTreeProvider,
    private readonly view: vscode.TreeView<unknown>,
    private readonly client: CoordinatorClient,
  ) {
    this.disposables.push(
      client.onNodes((nodes) => {
        tree.setNodes(nodes);
        this.request('repaint');
      }),
      client.onWorkspaces((workspaces) => {
        tree.setWorkspaces(workspaces);
        this.request('repaint');
      }),
      client.onServices((services) => {
        tree.setServices(services);
        this.request('repaint');
      }),
      client.onPorts((w) => {
        tree.portsChanged(w);
        this.request('repaint');
      }),
      client.onDidChangeState((s) => this.onState(s)),
      view.onDidChangeVisibility((e) => {
        if (!e.visible) return;
        this.flush();
        this.probe();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('vendetta.home')) {
          client.reset();
          this.request('reload');
        }
      }),
    );
    if (view.visible) this.probe();
  }

  private onState(s: ConnectionState): void {
    this.view.message = connectionMessage(s);
    // After a reconnect the lists may have changed while nobody listened. (The first connect
    // is the tree's own fetch: nothing loaded yet, nothing to reload.)
    if (s.kind === 'connected' && this.tree.snapshot.nodes !== undefined) {
      this.request('reload');
      if (this.view.visible) this.probe();
    }
  }

  /** One live status request per node; hidden views wait until they show. */
  private probe(): void {
    void this.tree.probeStatus(() => this.request('repaint'));
  }

  /** Manual refresh (the Refresh command) and everything else funnel through here. */
  request(kind: 'repaint' | 'reload'): void {
    if (kind === 'reload' || this.pending === 'none') this.pending = kind;
    if (!this.view.visible) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), DEBOUNCE_MS);
  }

  /** Refresh now, whether the view shows or not (the Refresh command awaits the tree's fetch). */
  refreshNow(): void {
    clearTimeout(this.timer);
    this.pending = 'none';
    this.tree.invalidate();
    this.tree.fireChanged();
    this.probe();
  }

  private flush(): void {
    clearTimeout(this.timer);
    const p = this.pending;
    this.pending = 'none';
    if (p === 'reload') this.tree.invalidate();
    if (p !== 'none') this.tree.fireChanged();
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
