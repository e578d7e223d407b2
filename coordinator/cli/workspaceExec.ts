/**
 * `workspace exec` (an ssh2 session to the workspace's own sshd over a coordinator tunnel, the
 * command sent as quoted argv) and `workspace ssh` (the real OpenSSH client with the generated
 * config, exactly what a person or Remote-SSH runs).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { VendettaError } from '../errors';
import type { HomePaths } from '../home';
import { shellCommand, shellQuote } from '../ssh/shellQuote';
import { blockAliases } from '../sshConfig/blocks';
import { sshAlias } from '../workspaces/names';
import { WorkspaceStore, workspacesFile } from '../workspaces/store';
import { connectWorkspace, execStreaming, remoteCommand } from '../workspaces/workspaceSsh';
import { CoordinatorClient } from './client';
import { openTunnel } from './tunnelClient';

export interface ExecOptions {
  node?: string;
  tty?: boolean;
}

export async function execInWorkspace(name: string, argv: string[], opts: ExecOptions): Promise<number> {
  if (argv.length === 0) {
    throw new VendettaError('INVALID_PARAMS', 'No command to run', {
      hint: 'Put it after --: `vendetta workspace exec WS -- ls -la`.',
    });
  }
  const client = await CoordinatorClient.connect();
  let tunnel;
  try {
    tunnel = await openTunnel(client, { name, ...(opts.node ? { node: opts.node } : {}) });
  } finally {
    client.dispose();
  }
  const { socket, info } = tunnel;
  const ssh = await connectWorkspace({
    sock: socket,
    alias: info.alias,
    user: info.user,
    identityFile: info.identityFile,
    knownHostsFile: info.knownHostsFile,
  });
  const stdin = process.stdin;
  const tty = opts.tty === true && stdin.isTTY === true;
  try {
    if (tty) stdin.setRawMode(true);
    return await execStreaming(ssh, remoteCommand(argv, info.workspaceFolder), {
      stdin,
      stdout: process.stdout,
      stderr: process.stderr,
      ...(tty
        ? {
            pty: {
              rows: process.stdout.rows ?? 24,
              cols: process.stdout.columns ?? 80,
              term: process.env.TERM ?? 'xterm-256color',
            },
          }
        : {}),
    });
  } finally {
    if (tty) stdin.setRawMode(false);
    // Reading stdin would keep this process alive after the command ended.
    stdin.pause();
    stdin.destroy();
    ssh.end();
    socket.destroy();
  }
}

/** The folder of the workspace behind an alias, from the coordinator's records (no coordinator needed). */
function workspaceFolderOf(paths: HomePaths, alias: string): string | undefined {
  try {
    return new WorkspaceStore(workspacesFile(paths)).list().find((r) => r.sshHost === alias)?.workspaceFolder;
  } catch {
    return undefined; // damaged records: the shell starts in the home folder, as plain ssh does
  }
}

/** The alias of a workspace name, from the generated ssh_config (no coordinator needed). */
export function aliasFor(paths: HomePaths, name: string, node?: string): string {
  if (node) return sshAlias(name, node);
  let text = '';
  try {
    text = readFileSync(paths.sshConfig, 'utf8');
  } catch {
    // no file: no workspaces
  }
  const found = blockAliases(text).filter((a) => a.startsWith(`${name}.`) && a.split('.').length === 3);
  if (found.length === 1) return found[0]!;
  if (found.length > 1) {
    throw new VendettaError(
      'WORKSPACE_AMBIGUOUS',
      `There is a workspace named ${name} on ${found.length} nodes (${found.map((a) => a.split('.')[1]).join(', ')})`,
      {
        hint: `Say which one with --node, e.g. --node ${found[0]!.split('.')[1]}.`,
      },
    );
  }
  throw new VendettaError('WORKSPACE_NOT_FOUND', `There is no workspace named ${name}`, {
    hint: 'See the workspaces with `vendetta workspace list`; make one with `vendetta workspace up PATH`.',
  });
}

/**
 * `ssh -F $VENDETTA_HOME/ssh_config -- ALIAS [command]`, stdio inherited; resolves with its exit
 * code. The shell without a command starts in the workspace folder (a plain `ssh ALIAS` starts in
 * the home folder, as ssh does), with a terminal when this one is.
 */
export function sshIntoWorkspace(paths: HomePaths, alias: string, argv: string[]): Promise<number> {
  const folder = argv.length ? undefined : workspaceFolderOf(paths, alias);
  const login = folder
    ? [...(process.stdin.isTTY ? ['-t'] : []), '--', alias, `cd ${shellQuote(folder)} && exec "\${SHELL:-/bin/sh}" -l`]
    : undefined;
  const args = ['-F', paths.sshConfig, ...(login ?? ['--', alias, ...(argv.length ? [shellCommand(argv)] : [])])];
  return new Promise((resolve, reject) => {
    const child = spawn('ssh', args, { stdio: 'inherit', env: { ...process.env, VENDETTA_HOME: paths.root } });
    child.once('error', (err) =>
      reject(
        new VendettaError('INTERNAL', `Cannot run ssh: ${err.message}`, {
          hint: 'Install the OpenSSH client (Debian/Ubuntu: `apt-get install openssh-client`).',
          cause: err,
        }),
      ),
    );
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 255)));
  });
}
