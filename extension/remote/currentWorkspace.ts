/** Whether this window is itself inside a Vendetta workspace (Remote-SSH into `<ws>.<node>.vendetta`). */
import * as vscode from 'vscode';
import { parseVendettaAuthority } from './remoteUri';

export function currentVendettaWorkspace(): { workspace: string; node: string; alias: string } | undefined {
  if (vscode.env.remoteName !== 'ssh-remote') return undefined;
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    const found = parseVendettaAuthority(f.uri.authority);
    if (found) return found;
  }
  return undefined;
}
