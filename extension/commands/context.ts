/** What every command gets: the coordinator client, the log, the tree and the remote opener. */
import type * as vscode from 'vscode';
import type { CoordinatorClient } from '../client/coordinatorClient';
import type { NodeRuntime } from '../client/runtime';
import type { RemoteOpener } from '../remote/remoteOpener';
import type { LogFollowers } from '../ui/logFollowers';
import type { NodesTreeProvider } from '../views/nodes/NodesTreeProvider';
import type { RefreshManager } from '../views/RefreshManager';

export interface CommandContext {
  extension: vscode.ExtensionContext;
  client: CoordinatorClient;
  log: vscode.LogOutputChannel;
  tree: NodesTreeProvider;
  refresh: RefreshManager;
  remote: RemoteOpener;
  logFollowers: LogFollowers;
  /** dist/vendetta.js of this extension. */
  cliPath: string;
  findRuntime: () => Promise<NodeRuntime>;
}

export type CommandHandler = (ctx: CommandContext, ...args: unknown[]) => Promise<unknown>;
