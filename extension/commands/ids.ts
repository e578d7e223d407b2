/**
 * Every command the extension contributes, in one const list. registerCommands.ts registers
 * exactly these (a missing handler is a compile error), and a unit test keeps the list equal to
 * package.json's contributes.commands. Ids are stable: tests and keybindings use them.
 */
export const COMMAND = {
  addNode: 'vendetta.addNode',
  removeNode: 'vendetta.removeNode',
  testNode: 'vendetta.testNode',
  refresh: 'vendetta.refresh',
  createWorkspace: 'vendetta.createWorkspace',
  startWorkspace: 'vendetta.startWorkspace',
  stopWorkspace: 'vendetta.stopWorkspace',
  deleteWorkspace: 'vendetta.deleteWorkspace',
  openWorkspaceInNewWindow: 'vendetta.openWorkspaceInNewWindow',
  openWorkspaceInCurrentWindow: 'vendetta.openWorkspaceInCurrentWindow',
  reopenInRemoteWorkspace: 'vendetta.reopenInRemoteWorkspace',
  showWorkspaceLogs: 'vendetta.showWorkspaceLogs',
  restartServices: 'vendetta.restartServices',
  forwardPort: 'vendetta.forwardPort',
  openTerminal: 'vendetta.openTerminal',
  validateConfig: 'vendetta.validateConfig',
  openServiceUrl: 'vendetta.openServiceUrl',
  showExtensionLog: 'vendetta.showExtensionLog',
  workspaceActions: 'vendetta.workspaceActions',
} as const;

export type CommandKey = keyof typeof COMMAND;
export type CommandId = (typeof COMMAND)[CommandKey];

export const COMMAND_IDS: readonly CommandId[] = Object.values(COMMAND);

/** The Remote Nodes view and its activity-bar container. */
export const VIEW = {
  container: 'vendetta',
  nodes: 'vendetta.nodes',
} as const;
