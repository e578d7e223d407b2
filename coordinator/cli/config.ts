import type { Command } from 'commander';

export function registerConfigCommands(program: Command): void {
  program.command('config').description('TODO');
}
