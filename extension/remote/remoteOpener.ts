/**
 * Opens a workspace in VS Code through Remote-SSH: checks that Remote-SSH (or a compatible fork)
 * is installed and offers to install it, makes sure ~/.ssh/config includes the generated
 * ssh_config, then `vscode.openFolder` with `vscode-remote://ssh-remote+<ws>.<node>.vendetta<folder>`.
 * Another opener can be set through the extension's API (tests; extensions that open folders
 * their own way): it then gets the URI instead, and nothing is checked or installed.
 */
import * as vscode from 'vscode';
import type { WorkspaceSummary } from '../../coordinator/protocol';
import { CancelledError } from '../errors';
import { pickRemoteSsh, remoteFolderUri, REMOTE_SSH_EXTENSIONS } from './remoteUri';
import { ensureSshInclude, type SshIncludeDeps } from './sshInclude';

export type FolderOpener = (uri: vscode.Uri, opts: { newWindow: boolean }) => Thenable<unknown> | Promise<unknown>;

export class RemoteOpener {
  /** Replaces the Remote-SSH path when set. */
  opener: FolderOpener | undefined;

  constructor(private readonly deps: SshIncludeDeps) {}

  async open(w: WorkspaceSummary, newWindow: boolean): Promise<string> {
    const uriText = remoteFolderUri(w.sshHost, w.workspaceFolder);
    const uri = vscode.Uri.parse(uriText);
    this.deps.log.info(`Opening ${uriText}${newWindow ? ' in a new window' : ''}`);
    if (this.opener) {
      await this.opener(uri, { newWindow });
      return uriText;
    }
    await ensureRemoteSsh();
    await ensureSshInclude(this.deps);
    await setRemotePlatform(w.sshHost);
    await vscode.commands.executeCommand(
      'vscode.openFolder',
      uri,
      newWindow ? { forceNewWindow: true } : { forceReuseWindow: true },
    );
    return uriText;
  }
}

export function installedRemoteSsh(): string | undefined {
  return pickRemoteSsh(vscode.extensions.all.map((e) => e.id));
}

async function ensureRemoteSsh(): Promise<void> {
  if (installedRemoteSsh()) return;
  const [official, fork] = REMOTE_SSH_EXTENSIONS;
  const installOfficial = 'Install Remote - SSH';
  const installFork = 'Install Open Remote - SSH';
  const choice = await vscode.window.showWarningMessage(
    'Opening a Vendetta workspace needs the Remote - SSH extension (or the compatible Open Remote - SSH).',
    { modal: true },
    installOfficial,
    installFork,
  );
  if (!choice) throw new CancelledError();
  await vscode.commands.executeCommand(
    'workbench.extensions.installExtension',
    choice === installOfficial ? official : fork,
  );
}

/** Remote-SSH asks for the platform of a host it does not know; every workspace runs Linux. */
async function setRemotePlatform(alias: string): Promise<void> {
  const config = vscode.workspace.getConfiguration('remote.SSH');
  const current = config.get<Record<string, string>>('remotePlatform') ?? {};
  if (current[alias] === 'linux') return;
  try {
    await config.update('remotePlatform', { ...current, [alias]: 'linux' }, vscode.ConfigurationTarget.Global);
  } catch {
    // Not a known setting (a fork without it): Remote-SSH asks instead.
  }
}
