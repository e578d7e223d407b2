/**
 * Clients following logs (`services/readLogs` with follow): each gets the new lines of its selection
 * as `services/didLog` notifications, batched per turn of the event loop, until it unfollows
 * or its connection closes.
 */
import type { ServiceLogLine } from '../protocol';

interface Follow {
  workspace: string;
  service?: string;
  send(lines: ServiceLogLine[]): void;
  pending: ServiceLogLine[];
}

export class LogFollows {
  private readonly follows = new Map<string, Follow>();
  private scheduled = false;

  add(token: string, workspace: string, service: string | undefined, send: (lines: ServiceLogLine[]) => void): void {
    this.follows.set(token, { workspace, ...(service !== undefined ? { service } : {}), send, pending: [] });
  }

  remove(token: string): boolean {
    return this.follows.delete(token);
  }

  /** Ends every follow of a workspace (it was removed). */
  removeWorkspace(workspace: string): void {
    for (const [t, f] of this.follows) if (f.workspace === workspace) this.follows.delete(t);
  }

  get size(): number {
    return this.follows.size;
  }

  publish(workspace: string, line: ServiceLogLine): void {
    let any = false;
    for (const f of this.follows.values()) {
      if (f.workspace !== workspace || (f.service !== undefined && f.service !== line.service)) continue;
      f.pending.push(line);
      any = true;
    }
    if (any && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    for (const f of this.follows.values()) {
      if (!f.pending.length) continue;
      const lines = f.pending;
      f.pending = [];
      f.send(lines);
    }
  }
}
