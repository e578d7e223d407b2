/** The status bar item's quick actions for the workspace this window is in: logs, ports, terminal, stop. */
import * as vscode from 'vscode';
import { ExtensionError } from '../errors';
import { currentVendettaWorkspace } from '../remote/currentWorkspace';
import { COMMAND } from './ids';
import type { CommandContext } from './context';

export async function workspaceActions(_ctx: CommandContext, arg?: unknown): Promise<unknown> {
  const current = currentVendettaWorkspace();
  const target = arg ?? (current ? { name: current.workspace, node: current.node } : undefined);
  if (!target) throw new ExtensionError('This window is not inside a Vendetta workspace');
  const items = [
    { label: '$(output) Show Logs', command: COMMAND.showWorkspaceLogs },
    { label: '$(plug) Forward Port…', command: COMMAND.forwardPort },
    { label: '$(debug-stop) Stop Workspace', command: COMMAND.stopWorkspace },
  ];
  const label =
    typeof target === 'object' && target && 'name' in target ? String((target as { name: unknown }).name) : 'workspace';
  const chosen = await vscode.window.showQuickPick(items, {
    title: `Vendetta: ${label}`,
    placeHolder: 'What to do with this workspace',
  });
  if (!chosen) return undefined;
  return vscode.commands.executeCommand(chosen.command, target);
}
