/** `vendetta mcp`: the Model Context Protocol server on stdio, loaded only when asked for. */
import type { Command } from 'commander';
import { runAction } from './client';

export function registerMcpCommand(program: Command): void {
  program
    .command('mcp')
    .description(
      'serve the Model Context Protocol on stdin/stdout, so coding agents (Copilot, Claude Code, Cursor) can use workspaces',
    )
    .option(
      '--read-only',
      'offer only the tools that change nothing (lists, status, read_file, list_files, logs, ports)',
    )
    .option('--allow-destructive', 'also offer workspace_stop and workspace_rm')
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ readOnly?: boolean; allowDestructive?: boolean; verbose?: boolean }>();
      await runAction(opts, async () => {
        const { serveMcp } = await import('../mcp/server.js');
        await serveMcp({
          ...(opts.readOnly ? { readOnly: true } : {}),
          ...(opts.allowDestructive ? { allowDestructive: true } : {}),
        });
      });
    });
}
