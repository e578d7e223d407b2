/**
 * `vendetta.dotfiles.*` (as Dev Containers' `dotfiles.*`) as workspaces/up's `dotfiles`: from the
 * user's own settings only (machine settings), none while the repository is empty.
 */
import type { WorkspaceConfiguration } from 'vscode';
import type { DotfilesSettings } from '../../coordinator/protocol';
import { machineSetting } from './machineSettings';

export function dotfilesFromSettings(config: Pick<WorkspaceConfiguration, 'inspect'>): DotfilesSettings | undefined {
  const value = (key: 'dotfiles.repository' | 'dotfiles.installCommand' | 'dotfiles.targetPath') => {
    const v = machineSetting<unknown>(config, key);
    return typeof v === 'string' && v.trim() ? v.trim() : undefined;
  };
  const repository = value('dotfiles.repository');
  if (!repository) return undefined;
  const installCommand = value('dotfiles.installCommand');
  const targetPath = value('dotfiles.targetPath');
  return {
    repository,
    ...(installCommand ? { installCommand } : {}),
    ...(targetPath ? { targetPath } : {}),
  };
}
