/**
 * `logs -f` relayed: the coordinator follows a workspace's logs on the node under its own token
 * and passes each `services/didLog` batch on to the one client that asked, under that client's
 * token. A follow ends on `services/unfollow`, when that client disconnects, or when the workspace
 * is removed. When the node's link drops and comes back, the follow is asked for again from the
 * last line seen, and lines already passed on are not sent twice.
 */
import { randomUUID } from 'node:crypto';
import {
  ServiceLogLines,
  ServiceLogs,
  UnfollowLogs,
  type ServiceLogLine,
  type ServiceLogsParams,
} from '../../agent/protocol';
import type { ClientHandle } from '../daemon/handlerTable';
import { VendettaError } from '../errors';
import type { Logger } from '../log';
import type { AgentClient, Disposable } from '../nodes/agentClient';
import { LogLinesNotification } from '../protocol';
import { checkLogLines } from './agentReplies';

interface Follow {
  key: string;
  node: string;
  workspace: string;
  agent: AgentClient;
  agentToken: string;
  subs: Disposable[];
  params: ServiceLogsParams;
  /** Time of the newest line passed on, and the lines at exactly that time (for de-duplication). */
  lastTime: string;
  atLast: Set<string>;
}

const lineKey = (l: ServiceLogLine) => `${l.service}\0${l.stream}\0${l.line}`;

export class LogFollows {
  private readonly follows = new Map<string, Follow>();

  constructor(private readonly log: Logger) {}

  get size(): number {
    return this.follows.size;
  }

  /** Asks the node for the lines and the follow; returns the first lines (the rest are notifications). */
  async start(
    agent: AgentClient,
    node: string,
    params: Omit<ServiceLogsParams, 'follow' | 'followToken'>,
    client: ClientHandle,
    clientToken: string,
  ): Promise<ServiceLogLine[]> {
    const key = `${client.id}\0${clientToken}`;
    if (this.follows.has(key)) {
      throw new VendettaError('INVALID_PARAMS', 'This followToken already follows logs', {
        hint: 'Use a new followToken for each follow.',
      });
    }
    const f: Follow = {
      key,
      node,
      workspace: params.workspace,
      agent,
      agentToken: randomUUID(),
      subs: [],
      params: { ...params },
      lastTime: '',
      atLast: new Set(),
    };
    const pass = (lines: ServiceLogLine[], dedupe = false) => {
      const fresh = this.unseen(f, lines, dedupe);
      if (fresh.length) client.notify(LogLinesNotification, { followToken: clientToken, lines: fresh });
    };
    // Subscribed before asking, so no line between the answer and the first batch is lost. The
    // node follows before it reads, so a line may come both ways: batches that arrive before the
    // answer wait for it and lose the lines it holds.
    let early: ServiceLogLine[][] | undefined = [];
    f.subs.push(
      agent.onNotification(ServiceLogLines, (p) => {
        if (p?.followToken !== f.agentToken || !this.follows.has(key)) return;
        try {
          const lines = checkLogLines(p.lines, node);
          if (early) early.push(lines);
          else pass(lines);
        } catch (err) {
          this.log.warn('dropped malformed log lines', { node, err });
        }
      }),
    );
    f.subs.push(client.gone.onCancellationRequested(() => void this.stop(client.id, clientToken)));
    let wasOffline = false;
    f.subs.push(
      agent.onStateChange((state) => {
        if (state === 'offline') wasOffline = true;
        if (state === 'online' && wasOffline && this.follows.has(key)) {
          wasOffline = false;
          void this.resume(f, pass);
        }
      }),
    );
    this.follows.set(key, f);
    try {
      const lines = this.unseen(
        f,
        checkLogLines(
          (await agent.request(ServiceLogs, { ...f.params, follow: true, followToken: f.agentToken })).lines,
          node,
        ),
        false,
      );
      const answered = new Set(lines.map((l) => `${l.time}\0${lineKey(l)}`));
      const held = (early ?? []).flat().filter((l) => !answered.has(`${l.time}\0${lineKey(l)}`));
      early = undefined;
      // After the answer: the client prints the answer first either way.
      if (held.length) setImmediate(() => this.follows.has(key) && pass(held));
      return lines;
    } catch (err) {
      this.drop(f);
      throw err;
    }
  }

  /** Ends a follow of this client; false when there was none. */
  async stop(clientId: number, clientToken: string): Promise<boolean> {
    const f = this.follows.get(`${clientId}\0${clientToken}`);
    if (!f) return false;
    this.drop(f);
    await f.agent
      .request(UnfollowLogs, { followToken: f.agentToken })
      .catch((err: unknown) => this.log.debug('unfollow on the node failed', { node: f.node, err }));
    return true;
  }

  /** The workspace is gone: its follows end (the node has nothing more to send). */
  endWorkspace(node: string, workspace: string): void {
    for (const f of [...this.follows.values()]) if (f.node === node && f.workspace === workspace) this.drop(f);
  }

  close(): void {
    for (const f of [...this.follows.values()]) this.drop(f);
  }

  private drop(f: Follow): void {
    this.follows.delete(f.key);
    for (const s of f.subs) s.dispose();
    f.subs = [];
  }

  /** The link came back: the node forgot the follow; ask again from the last line passed on. */
  private async resume(f: Follow, pass: (lines: ServiceLogLine[], dedupe: boolean) => void): Promise<void> {
    const since = f.lastTime || undefined;
    const params: ServiceLogsParams = {
      ...f.params,
      follow: true,
      followToken: f.agentToken,
      ...(since ? { since } : {}),
    };
    if (since) delete params.tail;
    try {
      pass(checkLogLines((await f.agent.request(ServiceLogs, params)).lines, f.node), true);
      this.log.info('log follow resumed after the link came back', { node: f.node, workspace: f.workspace });
    } catch (err) {
      this.log.warn('could not resume a log follow', { node: f.node, workspace: f.workspace, err });
    }
  }

  /**
   * Notes what is passed on; with `dedupe` (the answer to a resumed follow, which starts at the
   * last time seen) drops what was already passed on: older lines, and the same line at that time.
   */
  private unseen(f: Follow, lines: ServiceLogLine[], dedupe: boolean): ServiceLogLine[] {
    const out: ServiceLogLine[] = [];
    for (const l of lines) {
      const k = lineKey(l);
      if (dedupe && (l.time < f.lastTime || (l.time === f.lastTime && f.atLast.has(k)))) continue;
      if (l.time > f.lastTime) {
        f.lastTime = l.time;
        f.atLast = new Set();
      }
      if (l.time === f.lastTime) f.atLast.add(k);
      out.push(l);
    }
    return out;
  }
}
