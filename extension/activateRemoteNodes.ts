/**
 * Wires up everything but the language client: the coordinator client, the Remote Nodes view,
 * its RefreshManager, the commands and the workspace status bar item; in a workspace's remote
 * window, the extensions its config asks for. Loaded lazily by
 * extension.ts; nothing here talks to the coordinator until the view shows or a command runs.
 */
import * as vscode from 'vscode';
import { CoordinatorClient } from './client/coordinatorClient';
import { homeFiles, homeFromSettings } from './client/home';
import { findNodeRuntime, type NodeRuntime } from './client/runtime';
import type { CommandContext } from './commands/context';
import { VIEW } from './commands/ids';
import { registerCommands } from './commands/registerCommands';
import { registerMcpServerProvider, type McpHost } from './mcp/mcpServerProvider';
import { RemoteOpener, type FolderOpener } from './remote/remoteOpener';
import { createWorkspaceStatusBar } from './remote/workspaceStatusBar';
import { currentVendettaWorkspace } from './remote/currentWorkspace';
import { installPendingExtensions } from './remote/remoteExtensions';
import { takeUpNotice } from './util/upWarnings';
import { registerWorkspaceFiles } from './sync/showConflicts';
import { LogFollowers } from './ui/logFollowers';
import type { TreeElement } from './views/nodes/nodeTreeModel';
import { NodesTreeProvider } from './views/nodes/NodesTreeProvider';
import { RefreshManager } from './views/RefreshManager';
import { PortNotices } from './ui/portNotices';

/** What `vscode.extensions.getExtension('vendetta-dev.vendetta').exports` offers. */
export interface VendettaApi {
  client: CoordinatorClient;
  /** Open workspace folders with this instead of Remote-SSH (undefined restores Remote-SSH). */
  setFolderOpener(opener: FolderOpener | undefined): void;
  /** The Remote Nodes tree's data, as VS Code sees it (the end-to-end tests read it). */
  tree: NodesTreeProvider;
  /** The last lines Show Logs put in a workspace's output channel (the end-to-end tests read them). */
  logLines(workspace: { name: string; node: string }): readonly string[];
}

export function activateRemoteNodes(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): VendettaApi {
  const settings = () => vscode.workspace.getConfiguration('vendetta');
  let runtime: Promise<NodeRuntime> | undefined;
  const findRuntime = () => {
    runtime ??= findNodeRuntime({ pathEnv: process.env.PATH, execPath: process.execPath }).then((r) => {
      log.info(`JavaScript runtime for the coordinator: ${r.description}`);
      return r;
    });
    return runtime;
  };
  const client = new CoordinatorClient({
    home: () => homeFiles(homeFromSettings(settings())),
    cliPath: context.asAbsolutePath('dist/vendetta.js'),
    clientInfo: {
      name: 'vscode',
      version: String((context.extension.packageJSON as { version?: unknown }).version ?? '0.0.0'),
    },
    findRuntime,
    logLevel: () => settings().get<string>('logLevel') || undefined,
    log,
  });
  const tree = new NodesTreeProvider(client);
  const view = vscode.window.createTreeView<TreeElement>(VIEW.nodes, { treeDataProvider: tree, showCollapseAll: true });
  const refresh = new RefreshManager(tree, view, client);
  const remote = new RemoteOpener({
    home: () => client.home,
    cliPath: context.asAbsolutePath('dist/vendetta.js'),
    findRuntime,
    log,
  });
  const logFollowers = new LogFollowers(client);
  const ctx: CommandContext = {
    extension: context,
    client,
    log,
    tree,
    refresh,
    remote,
    logFollowers,
    cliPath: context.asAbsolutePath('dist/vendetta.js'),
    findRuntime,
  };
  context.subscriptions.push(
    client,
    tree,
    view,
    refresh,
    logFollowers,
    registerWorkspaceFiles(client),
    ...registerCommands(ctx),
    new PortNotices(ctx),
  );
  const mcp = registerMcpServerProvider(
    vscode as unknown as McpHost,
    {
      cliPath: context.asAbsolutePath('dist/vendetta.js'),
      home: () => homeFromSettings(settings()),
      version: String((context.extension.packageJSON as { version?: unknown }).version ?? '0.0.0'),
      findRuntime,
    },
    log,
  );
  if (mcp) context.subscriptions.push(mcp);
  const statusBar = createWorkspaceStatusBar();
  if (statusBar) context.subscriptions.push(statusBar);
  const here = currentVendettaWorkspace();
  if (here) {
    void installPendingExtensions(
      context.globalState,
      here.alias,
      (command, id) => vscode.commands.executeCommand(command, id),
      (id) => vscode.extensions.getExtension(id) !== undefined,
      log,
    );
    void takeUpNotice(context.globalState, here.alias).then((notice) => {
      if (notice) void vscode.window.showWarningMessage(notice);
    });
  }
  return {
    client,
    setFolderOpener: (opener) => (remote.opener = opener),
    tree,
    logLines: (workspace) => logFollowers.recentLines(workspace),
  };
}
