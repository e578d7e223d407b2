/**
 * `--dotfiles <repo>`, `--dotfiles-install-command`, `--dotfiles-target-path` of `up`, spelt as the
 * devcontainer and DevPod CLIs spell them; VS Code sends the same from `vendetta.dotfiles.*`.
 */
import type { Command } from 'commander';
import { VendettaError } from '../errors';
import type { DotfilesSettings } from '../protocol';

export interface DotfilesOpts {
  dotfiles?: string;
  dotfilesInstallCommand?: string;
  dotfilesTargetPath?: string;
}

export function addDotfilesOptions(cmd: Command): Command {
  return cmd
    .option(
      '--dotfiles <repo>',
      'your dotfiles: a git URL or path the node can clone (or GitHub owner/repo), installed once per workspace as its user',
    )
    .option(
      '--dotfiles-install-command <path>',
      'the script in the dotfiles to run (default: install.sh, install, bootstrap.sh, bootstrap, script/bootstrap, setup.sh, setup, script/setup; none: link the dotfiles into ~)',
    )
    .option('--dotfiles-target-path <path>', 'where the dotfiles go in the workspace (default: ~/dotfiles)');
}

export function dotfilesParam(opts: DotfilesOpts): DotfilesSettings | undefined {
  if (!opts.dotfiles) {
    const stray = opts.dotfilesInstallCommand
      ? '--dotfiles-install-command'
      : opts.dotfilesTargetPath
        ? '--dotfiles-target-path'
        : undefined;
    if (stray)
      throw new VendettaError('INVALID_PARAMS', `${stray} needs --dotfiles`, {
        hint: 'Name the dotfiles repository with --dotfiles <repo> too.',
      });
    return undefined;
  }
  return {
    repository: opts.dotfiles,
    ...(opts.dotfilesInstallCommand ? { installCommand: opts.dotfilesInstallCommand } : {}),
    ...(opts.dotfilesTargetPath ? { targetPath: opts.dotfilesTargetPath } : {}),
  };
}
