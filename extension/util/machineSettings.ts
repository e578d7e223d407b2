/**
 * The settings that say where the coordinator's files are, whether ~/.ssh/config may be changed and
 * which dotfiles every workspace gets have `"scope": "machine"`: they come from the user's own settings, never from a repository's
 * `.vscode/settings.json`, which could otherwise point Vendetta at a home someone else controls.
 * VS Code ignores workspace values of machine settings; reading only the user's value (`inspect`)
 * holds even where an editor does not (a code-server, an older VS Code).
 */
import type { WorkspaceConfiguration } from 'vscode';

/** Keys under `vendetta.` with `"scope": "machine"` in package.json (a unit test compares them). */
export const MACHINE_SETTINGS = [
  'home',
  'sshConfig.manageInclude',
  // A repository's settings must not make the node clone what it names and run its script.
  'dotfiles.repository',
  'dotfiles.installCommand',
  'dotfiles.targetPath',
] as const;
export type MachineSetting = (typeof MACHINE_SETTINGS)[number];

/** The user's value of a machine setting, else its default; workspace and folder values are ignored. */
export function machineSetting<T>(config: Pick<WorkspaceConfiguration, 'inspect'>, key: MachineSetting): T | undefined {
  const seen = config.inspect<T>(key);
  return seen?.globalValue ?? seen?.defaultValue;
}
