/**
 * Agent notifications for listeners that outlive one link: vscode-jsonrpc keeps one handler per
 * method per connection, so each client registers a single dispatcher per method on every new
 * session and fans out to whoever subscribed.
 */
import type { MessageConnection, NotificationType } from 'vscode-jsonrpc';
import type { Disposable } from './agentClient';

export class NotificationFanout {
  private readonly handlers = new Map<string, Set<(params: unknown) => void>>();
  private readonly wired = new WeakMap<MessageConnection, Set<string>>();
  private current: MessageConnection | undefined;

  /** Adds a handler; it is wired to the current session and every later one. */
  on<P>(type: NotificationType<P>, handler: (params: P) => void): Disposable {
    let set = this.handlers.get(type.method);
    if (!set) {
      set = new Set();
      this.handlers.set(type.method, set);
    }
    const h = handler as (params: unknown) => void;
    set.add(h);
    if (this.current) this.wireMethod(this.current, type.method);
    return { dispose: () => set.delete(h) };
  }

  /** Called with each new session's connection. */
  attach(connection: MessageConnection): void {
    this.current = connection;
    for (const method of this.handlers.keys()) this.wireMethod(connection, method);
  }

  private wireMethod(connection: MessageConnection, method: string): void {
    let done = this.wired.get(connection);
    if (!done) {
      done = new Set();
      this.wired.set(connection, done);
    }
    if (done.has(method)) return;
    done.add(method);
    connection.onNotification(method, (params: unknown) => {
      for (const h of [...(this.handlers.get(method) ?? [])]) {
        try {
          h(params);
        } catch {
          // one listener's bug must not stop the others, nor the connection
        }
      }
    });
  }
}
