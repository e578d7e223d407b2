/** `vendetta workspace …`: the group exists now; its commands arrive with workspace support. */
import type { Command } from 'commander';

export function registerWorkspaceCommands(program: Command): void {
  program
    .command('workspace')
    .description('create, list, start, stop and remove workspaces on nodes (not yet available in this version)');
}
