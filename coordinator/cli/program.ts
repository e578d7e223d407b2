/** The `vendetta` command line: one commander program, one module per command group. */
import { Command } from 'commander';
import { VERSION } from '../version';
import { registerConfigCommands } from './config';
import { registerCoordinatorCommands } from './coordinator';
import { registerMcpCommand } from './mcp';
import { registerNodeCommands } from './node';
import { registerSshCommands } from './ssh';
import { registerWorkspaceCommands } from './workspace';

export function createProgram(): Command {
  const program = new Command('vendetta')
    .description('Devcontainer-style workspaces on any Linux box you can SSH into.')
    .version(VERSION, '-V, --version')
    .option('--verbose', 'print the cause chain of errors')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str) })
    .exitOverride();
  registerConfigCommands(program);
  registerNodeCommands(program);
  registerWorkspaceCommands(program);
  registerSshCommands(program);
  registerCoordinatorCommands(program);
  registerMcpCommand(program);
  return program;
}
