/**
 * `vendetta ssh-proxy ALIAS` (the ProxyCommand of every generated Host block) and
 * `vendetta ssh-config install|uninstall` (the one Include line in ~/.ssh/config).
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { homePaths, vendettaHome } from '../home';
import { installInclude, uninstallInclude, userSshConfig } from '../sshConfig/include';
import { parseAlias } from '../workspaces/names';
import { CoordinatorClient, runAction } from './client';
import { ExitCode, printJson, reportError } from './output';
import { openTunnel } from './tunnelClient';

interface JsonOpts {
  json?: boolean;
  verbose?: boolean;
}

export function registerSshCommands(program: Command): void {
  program
    .command('ssh-proxy')
    .description('pipe stdin/stdout to a workspace\'s sshd through the coordinator (the ProxyCommand of the generated ssh_config)')
    .argument('<alias>', 'workspace host: <workspace>.<node>.vendetta')
    .option('--home <dir>', 'the VENDETTA_HOME whose coordinator to ask (the generated ssh_config names it)')
    .action(async (alias: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<JsonOpts & { home?: string }>();
      process.exitCode = await sshProxy(alias, opts);
    });

  const config = program.command('ssh-config').description('make plain `ssh <workspace>.<node>.vendetta` (and VS Code Remote-SSH) work');
  config
    .command('install')
    .description('add one `Include <VENDETTA_HOME>/ssh_config` line at the top of ~/.ssh/config (idempotent)')
    .option('--json', 'print the result as JSON')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<JsonOpts>();
      await runAction(opts, async () => {
        const r = installInclude(homePaths().sshConfig, userSshConfig());
        if (opts.json) printJson(r);
        else process.stdout.write(r.changed ? `added \`${r.line}\` at the top of ${r.file}\n` : `${r.file} already includes the workspaces (\`${r.line}\`)\n`);
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
        else process.stdout.write(r.changed ? `removed \`${r.line}\` from ${r.file}\n` : `${r.file} has no \`${r.line}\` line\n`);
      });
    });
}

/**
 * Runs under OpenSSH: stdout belongs to the SSH protocol, so everything said goes to stderr.
 * Errors before the pipe starts end the process with 1 (OpenSSH shows our stderr).
 */
async function sshProxy(alias: string, opts: JsonOpts & { home?: string }): Promise<number> {
  let tunnel;
  try {
    parseAlias(alias);
    const paths = homePaths(opts.home ? resolve(opts.home) : vendettaHome());
    const client = await CoordinatorClient.connect({ paths, clientName: 'vendetta-ssh-proxy' });
    try {
      tunnel = await openTunnel(client, { alias });
    } finally {
      client.dispose();
    }
  } catch (err) {
    reportError(err, { verbose: opts.verbose });
    return ExitCode.Error;
  }
  const { socket } = tunnel;
  socket.setNoDelay(true);
  return new Promise<number>((resolve) => {
    process.stdin.pipe(socket);
    socket.pipe(process.stdout);
    // ssh closed our stdin: pass the EOF on; the coordinator's side closes when sshd is done.
    process.stdin.once('end', () => socket.end());
    socket.once('close', (hadError) => {
      process.stdin.unpipe(socket);
      process.stdin.destroy();
      resolve(hadError ? ExitCode.Error : ExitCode.Ok);
    });
    socket.on('error', (err) => process.stderr.write(`error: the tunnel to ${alias} broke: ${err.message}\n`));
  });
}
