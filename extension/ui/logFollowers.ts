/**
 * Show Logs: a workspace's (or one service's) logs streamed into an output channel. One channel
 * and one follow per workspace; showing again restarts the follow. Stopped on dispose.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import {
  LogsRequest,
  UnfollowLogsRequest,
  type ServiceLogLine,
  type WorkspaceSummary,
} from '../../coordinator/protocol';
import type { CoordinatorClient } from '../client/coordinatorClient';
import { ExtensionError, errorInfo } from '../errors';
import type { Disposable } from '../util/emitter';

export function formatLogLine(l: ServiceLogLine): string {
  const time = l.time.length >= 19 ? l.time.slice(11, 19) : l.time;
  const stream = l.stream === 'stderr' ? '!' : l.stream === 'system' ? '*' : ' ';
  return `${time} ${l.service.padEnd(10)}${stream} ${l.line}`;
}

/** How many of a channel's last lines recentLines() keeps. */
const RECENT_LINES = 1000;

interface Follow {
  channel: vscode.OutputChannel;
  /** The channel's last lines: VS Code offers no way to read an output channel back. */
  recent: string[];
  token?: string;
  sub?: Disposable;
}

export class LogFollowers implements vscode.Disposable {
  private readonly follows = new Map<string, Follow>();

  constructor(private readonly client: CoordinatorClient) {}

  async show(w: WorkspaceSummary, service?: string): Promise<void> {
    const key = `${w.node}/${w.name}`;
    let f = this.follows.get(key);
    if (!f) {
      f = { channel: vscode.window.createOutputChannel(`Vendetta Logs: ${w.name} on ${w.node}`), recent: [] };
      this.follows.set(key, f);
    }
    await this.stop(f);
    f.channel.clear();
    f.recent = [];
    f.channel.show(true);
    const followToken = randomUUID();
    f.token = followToken;
    const follow = f;
    const append = (line: string) => {
      follow.channel.appendLine(line);
      follow.recent.push(line);
      if (follow.recent.length > RECENT_LINES) follow.recent.splice(0, follow.recent.length - RECENT_LINES);
    };
    f.sub = this.client.onLogLines((p) => {
      if (p.followToken === followToken) for (const l of p.lines) append(formatLogLine(l));
    });
    append(`— logs of ${service ? `${service} in ` : ''}${w.name} on ${w.node}, following —`);
    try {
      const { lines } = await this.client.request(LogsRequest, {
        name: w.name,
        node: w.node,
        ...(service ? { service } : {}),
        tail: 200,
        follow: true,
        followToken,
      });
      for (const l of lines) append(formatLogLine(l));
    } catch (err) {
      f.sub.dispose();
      f.token = undefined;
      if (errorInfo(err).methodNotFound)
        throw new ExtensionError(
          'This coordinator cannot stream logs yet',
          'Update Vendetta; `vendetta coordinator stop` makes the next request start the new coordinator.',
        );
      throw err;
    }
  }

  /** The last lines Show Logs wrote for a workspace (its channel's text, which VS Code cannot read back). */
  recentLines(w: { name: string; node: string }): readonly string[] {
    return [...(this.follows.get(`${w.node}/${w.name}`)?.recent ?? [])];
  }

  private async stop(f: Follow): Promise<void> {
    f.sub?.dispose();
    const token = f.token;
    f.token = undefined;
    if (token) await this.client.request(UnfollowLogsRequest, { followToken: token }).catch(() => undefined);
  }

  dispose(): void {
    for (const f of this.follows.values()) {
      void this.stop(f);
      f.channel.dispose();
    }
    this.follows.clear();
  }
}
