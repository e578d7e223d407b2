import type { Command } from 'commander';

export function registerCoordinatorCommands(program: Command): void {
  program.command('coordinator').description('TODO');
}
