/**
 * The one `Include $VENDETTA_HOME/ssh_config` line in ~/.ssh/config that lets Remote-SSH find the
 * workspaces. Added by the bundled CLI (`vendetta ssh-config install`), only with consent, asked
 * once: the answer is kept in the `vendetta.sshConfig.manageInclude` setting.
 */
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runCli } from '../client/cli';
import type { HomeFiles } from '../client/home';
import type { NodeRuntime } from '../client/runtime';
import { machineSetting } from '../util/machineSettings';

export type ManageInclude = 'ask' | 'always' | 'never';

/** What adding the Include needs: the home's files, the bundled CLI and a runtime to run it, a log. */
export interface SshIncludeDeps {
  home: () => Pick<HomeFiles, 'root' | 'sshConfig'>;
  cliPath: string;
  findRuntime: () => Promise<NodeRuntime>;
  log: Pick<vscode.LogOutputChannel, 'info'>;
}

async function alreadyIncluded(sshConfig: string): Promise<boolean> {
  try {
    const text = await readFile(path.join(os.homedir(), '.ssh', 'config'), 'utf8');
    return text.split('\n').some((l) => /^\s*include\s/i.test(l) && l.includes(sshConfig));
  } catch {
    return false;
  }
}

/** Makes sure ~/.ssh/config includes the generated file, asking first unless the user already answered. */
export async function ensureSshInclude(deps: SshIncludeDeps): Promise<void> {
  const config = vscode.workspace.getConfiguration('vendetta');
  let mode = machineSetting<ManageInclude>(config, 'sshConfig.manageInclude') ?? 'ask';
  const home = deps.home();
  const sshConfig = home.sshConfig;
  if (mode === 'never' || (await alreadyIncluded(sshConfig))) return;
  if (mode === 'ask') {
    const add = 'Add Include';
    const never = 'Never';
    const choice = await vscode.window.showInformationMessage(
      `Remote-SSH finds Vendetta workspaces through one line in ~/.ssh/config: Include ${sshConfig}. Add it?`,
      {
        modal: true,
        detail:
          'Vendetta adds the line once, at the top, and never duplicates it. `vendetta ssh-config uninstall` removes it.',
      },
      add,
      never,
    );
    if (choice === undefined) return;
    mode = choice === add ? 'always' : 'never';
    await config.update('sshConfig.manageInclude', mode, vscode.ConfigurationTarget.Global);
    if (mode === 'never') return;
  }
  const runtime = await deps.findRuntime();
  const out = await runCli(runtime, deps.cliPath, home.root, ['ssh-config', 'install', '--json']);
  deps.log.info(`ssh-config install: ${out.trim()}`);
}
