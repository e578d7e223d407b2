/**
 * What a node's agent changes on its own (an idle stop) reaches the coordinator as a
 * `workspaces/didChange` notification: one subscription per node's client (a new client after a
 * reconnect gets a new one), handing the workspace's name to whoever asks it again.
 */
import { WorkspaceDidChange } from '../../agent/protocol';
import type { AgentClient, Disposable } from '../nodes/agentClient';

export class AgentChanges {
  private readonly watched = new Map<string, { client: AgentClient; sub: Disposable }>();

  constructor(private readonly changed: (node: string, name: string) => void) {}

  watch(node: string, client: AgentClient): void {
    const cur = this.watched.get(node);
    if (cur?.client === client) return;
    cur?.sub.dispose();
    const sub = client.onNotification(WorkspaceDidChange, (p) => {
      if (typeof p?.name === 'string') this.changed(node, p.name);
    });
    this.watched.set(node, { client, sub });
  }
}
