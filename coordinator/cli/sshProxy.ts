/**
 * `vendetta ssh-proxy ALIAS`: the ProxyCommand of every generated Host block. It runs once per SSH
 * connection, so main.ts loads this module alone, without the rest of the CLI.
 */
import { resolve } from 'node:path';
import { homePaths, vendettaHome } from '../home';
import { parseAlias } from '../workspaces/names';
import { CoordinatorClient } from './client';
import { ExitCode, reportError } from './output';
import { openTunnel, type OpenedTunnel } from './tunnelClient';
import { terminalSafe } from './terminalText';
import { toVendettaError } from '../errors';

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
      tunnel = await openWaking(client, alias);
    } finally {
      client.dispose();
    }
  } catch (err) {
    reportProxyError(err, opts.verbose === true);
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
 * The tunnel; a stopped workspace is started first, said on stderr (Remote-SSH shows it in its
 * log) before the wait for its SSH server. Only a stopped one: gone or broken ones fail at once.
 */
async function openWaking(client: CoordinatorClient, alias: string): Promise<OpenedTunnel> {
  try {
    return await openTunnel(client, { alias });
  } catch (err) {
    const e = toVendettaError(err);
    if (e.code !== 'WORKSPACE_STATE' || e.details?.state !== 'stopped') throw e;
  }
  process.stderr.write(`vendetta: ${alias} is stopped; starting it (ssh connects once its SSH server answers)\n`);
  const tunnel = await openTunnel(client, { alias, start: true });
  if (tunnel.info.startedMs !== undefined)
    process.stderr.write(`vendetta: ${alias} started in ${(tunnel.info.startedMs / 1000).toFixed(1)} s\n`);
  return tunnel;
}

/**
 * One line (`error: <message> (<hint>)`): OpenSSH and Remote-SSH show the proxy's stderr among
 * their own lines, where a second `hint:` line reads as someone else's. --verbose adds the chain.
 */
export function reportProxyError(err: unknown, verbose: boolean): void {
  const e = toVendettaError(err);
  if (verbose) {
    reportError(e, { verbose: true });
    return;
  }
  process.stderr.write(`${terminalSafe(`error: ${e.message}${e.hint ? ` (${e.hint.replace(/\.$/, '')})` : ''}`)}\n`);
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
