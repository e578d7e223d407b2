import type { Command } from 'commander';

export function registerNodeCommands(program: Command): void {
  program.command('node').description('TODO');
}
