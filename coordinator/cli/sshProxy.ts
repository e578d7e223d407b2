/**
 * `vendetta ssh-proxy ALIAS`: the ProxyCommand of every generated Host block. It runs once per SSH
 * connection, so main.ts loads this module alone, without the rest of the CLI.
 */
import { resolve } from 'node:path';
import { homePaths, vendettaHome } from '../home';
import { parseAlias } from '../workspaces/names';
import { CoordinatorClient } from './client';
import { ExitCode, reportError } from './output';
import { openTunnel } from './tunnelClient';

export interface SshProxyOptions {
  home?: string;
  verbose?: boolean;
}

/**
 * Runs under OpenSSH: stdout belongs to the SSH protocol, so everything said goes to stderr.
 * Errors before the pipe starts end the process with 1 (OpenSSH shows our stderr).
 */
export async function sshProxy(alias: string, opts: SshProxyOptions): Promise<number> {
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

/**
 * The arguments OpenSSH passes (`ssh-proxy [--home DIR] [--verbose] ALIAS`), or undefined for
 * anything else, which the full command line parser then explains.
 */
export function sshProxyArgs(args: readonly string[]): (SshProxyOptions & { alias: string }) | undefined {
  const out: SshProxyOptions = {};
  let alias: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--home' && i + 1 < args.length) out.home = args[++i];
    else if (a === '--verbose') out.verbose = true;
    else if (!a.startsWith('-') && alias === undefined) alias = a;
    else return undefined;
  }
  return alias === undefined ? undefined : { ...out, alias };
}
