/** Open Terminal in Workspace: a terminal running `ssh -F $VENDETTA_HOME/ssh_config <ws>.<node>.vendetta`. */
import * as vscode from 'vscode';
import { terminalSshArgs } from '../remote/remoteUri';
import type { CommandContext } from './context';
import { resolveWorkspace } from './pickers';

export async function openTerminal(ctx: CommandContext, arg?: unknown): Promise<vscode.Terminal> {
  const w = await resolveWorkspace(ctx, arg, { title: 'Open Terminal in Workspace', states: ['running'] });
  const terminal = vscode.window.createTerminal({
    name: `${w.name} on ${w.node}`,
    shellPath: 'ssh',
    shellArgs: terminalSshArgs(ctx.client.home.sshConfig, w.sshHost),
    iconPath: new vscode.ThemeIcon('vm'),
  });
  terminal.show();
  return terminal;
}
