/**
 * `vendetta ssh-proxy ALIAS` (the ProxyCommand of every generated Host block) and
 * `vendetta ssh-config install|uninstall` (the one Include line in ~/.ssh/config).
 */
import type { Command } from 'commander';
import { homePaths } from '../home';
import { trustedHomePaths } from '../homeTrust';
import { installInclude, uninstallInclude, userSshConfig } from '../sshConfig/include';
import { runAction } from './client';
import { printJson } from './output';
import { sshProxy } from './sshProxy';

interface JsonOpts {
  json?: boolean;
  verbose?: boolean;
}

export function registerSshCommands(program: Command): void {
  program
    .command('ssh-proxy')
    .description(
      "pipe stdin/stdout to a workspace's sshd through the coordinator (the ProxyCommand of the generated ssh_config)",
    )
    .argument('<alias>', 'workspace host: <workspace>.<node>.vendetta')
    .option('--home <dir>', 'the VENDETTA_HOME whose coordinator to ask (the generated ssh_config names it)')
    .action(async (alias: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<JsonOpts & { home?: string }>();
      process.exitCode = await sshProxy(alias, opts);
    });

  const config = program
    .command('ssh-config')
    .description('make plain `ssh <workspace>.<node>.vendetta` (and VS Code Remote-SSH) work');
  config
    .command('install')
    .description('add one `Include <VENDETTA_HOME>/ssh_config` line at the top of ~/.ssh/config (idempotent)')
    .option('--json', 'print the result as JSON')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<JsonOpts>();
      await runAction(opts, async () => {
        // ssh runs the ProxyCommand of whatever the included file says: include only a home that is the user's.
        const r = installInclude(trustedHomePaths().sshConfig, userSshConfig());
        if (opts.json) printJson(r);
        else
          process.stdout.write(
            r.changed
              ? `added \`${r.line}\` at the top of ${r.file}\n`
              : `${r.file} already includes the workspaces (\`${r.line}\`)\n`,
          );
      });
    });
  config
    .command('uninstall')
    .description('remove that Include line from ~/.ssh/config')
    .option('--json', 'print the result as JSON')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<JsonOpts>();
      await runAction(opts, async () => {
        const r = uninstallInclude(homePaths().sshConfig, userSshConfig());
        if (opts.json) printJson(r);
        else
          process.stdout.write(
            r.changed ? `removed \`${r.line}\` from ${r.file}\n` : `${r.file} has no \`${r.line}\` line\n`,
          );
      });
    });
}
