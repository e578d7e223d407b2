/**
 * Show Logs: a workspace's (or one service's) logs streamed into an output channel. One channel
 * and one follow per workspace; showing again restarts the follow. Stopped on dispose.
 */
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';
import { LogsRequest, UnfollowLogsRequest, type ServiceLogLine, type WorkspaceSummary } from '../../coordinator/protocol';
import type { CoordinatorClient } from '../client/coordinatorClient';
import { ExtensionError, errorInfo } from '../errors';
import type { Disposable } from '../util/emitter';

export function formatLogLine(l: ServiceLogLine): string {
  const time = l.time.length >= 19 ? l.time.slice(11, 19) : l.time;
  const stream = l.stream === 'stderr' ? '!' : l.stream === 'system' ? '*' : ' ';
  return `${time} ${l.service.padEnd(10)}${stream} ${l.line}`;
}

interface Follow {
  channel: vscode.OutputChannel;
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
      f = { channel: vscode.window.createOutputChannel(`Vendetta Logs: ${w.name} on ${w.node}`) };
      this.follows.set(key, f);
    }
    await this.stop(f);
    f.channel.clear();
    f.channel.show(true);
    const followToken = randomUUID();
    f.token = followToken;
    const channel = f.channel;
    f.sub = this.client.onLogLines((p) => {
      if (p.followToken === followToken) for (const l of p.lines) channel.appendLine(formatLogLine(l));
    });
    channel.appendLine(`— logs of ${service ? `${service} in ` : ''}${w.name} on ${w.node}, following —`);
    try {
      const { lines } = await this.client.request(LogsRequest, { name: w.name, node: w.node, ...(service ? { service } : {}), tail: 200, follow: true, followToken });
      for (const l of lines) channel.appendLine(formatLogLine(l));
    } catch (err) {
      f.sub.dispose();
      f.token = undefined;
      if (errorInfo(err).methodNotFound) throw new ExtensionError('This coordinator cannot stream logs yet', 'Update Vendetta; `vendetta coordinator stop` makes the next request start the new coordinator.');
      throw err;
    }
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
