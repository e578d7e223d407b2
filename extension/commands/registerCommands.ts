/**
 * The one place commands are registered: every id of ids.ts maps to a lazily loaded handler (a
 * missing one is a compile error). A failure reaches the user as one line with "Show Log"/"Retry".
 */
import * as vscode from 'vscode';
import { reportFailure } from '../ui/reportFailure';
import type { CommandContext, CommandHandler } from './context';
import { COMMAND, type CommandKey } from './ids';

type Loader = () => Promise<CommandHandler>;

const HANDLERS: { [K in CommandKey]: Loader } = {
  addNode: async () => (await import('./addNode.js')).addNode,
  removeNode: async () => (await import('./removeNode.js')).removeNode,
  testNode: async () => (await import('./testNode.js')).testNode,
  refresh: async () => (await import('./refresh.js')).refresh,
  createWorkspace: async () => (await import('./createWorkspace.js')).createWorkspace,
  startWorkspace: async () => (await import('./startWorkspace.js')).startWorkspace,
  stopWorkspace: async () => (await import('./stopWorkspace.js')).stopWorkspace,
  deleteWorkspace: async () => (await import('./deleteWorkspace.js')).deleteWorkspace,
  openWorkspaceInNewWindow: async () => (await import('./openWorkspaceInNewWindow.js')).openWorkspaceInNewWindow,
  openWorkspaceInCurrentWindow: async () =>
    (await import('./openWorkspaceInCurrentWindow.js')).openWorkspaceInCurrentWindow,
  reopenInRemoteWorkspace: async () => (await import('./reopenInRemoteWorkspace.js')).reopenInRemoteWorkspace,
  showWorkspaceLogs: async () => (await import('./showWorkspaceLogs.js')).showWorkspaceLogs,
  restartServices: async () => (await import('./restartServices.js')).restartServices,
  forwardPort: async () => (await import('./forwardPort.js')).forwardPort,
  openTerminal: async () => (await import('./openTerminal.js')).openTerminal,
  validateConfig: async () => (await import('./validateConfig.js')).validateConfig,
  openServiceUrl: async () => (await import('./openServiceUrl.js')).openServiceUrl,
  showExtensionLog: async () => (await import('./showExtensionLog.js')).showExtensionLog,
  workspaceActions: async () => (await import('./workspaceActions.js')).workspaceActions,
};

/** What a failure says: `Failed to <action>`. */
const ACTIONS: { [K in CommandKey]: string } = {
  addNode: 'add the node',
  removeNode: 'remove the node',
  testNode: 'test the node',
  refresh: 'refresh the Remote Nodes view',
  createWorkspace: 'create the workspace',
  startWorkspace: 'start the workspace',
  stopWorkspace: 'stop the workspace',
  deleteWorkspace: 'delete the workspace',
  openWorkspaceInNewWindow: 'open the workspace',
  openWorkspaceInCurrentWindow: 'open the workspace',
  reopenInRemoteWorkspace: 'reopen the folder in a remote workspace',
  showWorkspaceLogs: 'show the workspace logs',
  restartServices: 'restart the services',
  forwardPort: 'forward the port',
  openTerminal: 'open a terminal in the workspace',
  validateConfig: 'validate the config',
  openServiceUrl: 'open the service',
  showExtensionLog: 'show the extension log',
  workspaceActions: 'run the workspace action',
};

function targetName(arg: unknown): string | undefined {
  if (typeof arg !== 'object' || arg === null) return typeof arg === 'string' ? arg : undefined;
  const a = arg as {
    kind?: string;
    node?: { name?: string };
    workspace?: { name?: string };
    service?: { name?: string };
    name?: unknown;
  };
  if (a.kind === 'node') return a.node?.name;
  if (a.kind === 'service') return `${a.service?.name} in ${a.workspace?.name}`;
  if (a.kind === 'workspace') return a.workspace?.name;
  return typeof a.name === 'string' ? a.name : undefined;
}

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return (Object.keys(COMMAND) as CommandKey[]).map((key) => {
    const run = async (...args: unknown[]): Promise<unknown> => {
      try {
        const handler = await HANDLERS[key]();
        return await handler(ctx, ...args);
      } catch (err) {
        const target = targetName(args[0]);
        const action = target
          ? ACTIONS[key].replace(/the (node|workspace|port|service)$/, `$1 ${target}`)
          : ACTIONS[key];
        void reportFailure(ctx.log, action, err, () => run(...args));
        return undefined;
      }
    };
    return vscode.commands.registerCommand(COMMAND[key], run);
  });
}
