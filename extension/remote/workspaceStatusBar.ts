/** In a window inside a Vendetta workspace: a status bar item `<ws> on <node>` with its quick actions. */
import * as vscode from 'vscode';
import { COMMAND } from '../commands/ids';
import { currentVendettaWorkspace } from './currentWorkspace';

export function createWorkspaceStatusBar(): vscode.StatusBarItem | undefined {
  const current = currentVendettaWorkspace();
  if (!current) return undefined;
  const item = vscode.window.createStatusBarItem('vendetta.workspace', vscode.StatusBarAlignment.Left, 1000);
  item.name = 'Vendetta Workspace';
  item.text = `$(vm) ${current.workspace} on ${current.node}`;
  item.tooltip = `Vendetta workspace ${current.alias}: logs, ports, stop`;
  item.command = {
    command: COMMAND.workspaceActions,
    title: 'Workspace Actions',
    arguments: [{ name: current.workspace, node: current.node }],
  };
  item.show();
  return item;
}
