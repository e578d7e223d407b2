/** Where the coordinator keeps its files (DESIGN.md "Files on disk"). */
import { homedir } from 'node:os';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface HomePaths {
  root: string;
  nodesFile: string;
  stateDir: string;
  keysDir: string;
  knownHosts: string;
  sshConfig: string;
  socket: string;
  lockFile: string;
  logsDir: string;
  /** Agent home of the built-in `local` node. */
  localAgentHome: string;
}

export function vendettaHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.VENDETTA_HOME || join(homedir(), '.vendetta'));
}

export function homePaths(root = vendettaHome()): HomePaths {
  return {
    root,
    nodesFile: join(root, 'nodes.yaml'),
    stateDir: join(root, 'state'),
    keysDir: join(root, 'keys'),
    knownHosts: join(root, 'known_hosts'),
    sshConfig: join(root, 'ssh_config'),
    socket: join(root, 'coordinator.sock'),
    lockFile: join(root, 'coordinator.lock'),
    logsDir: join(root, 'logs'),
    localAgentHome: join(root, 'local-agent'),
  };
}

/**
 * The argv prefix that runs a bundled script with this process's own runtime from a shell that
 * does not share this environment (ssh runs the ProxyCommand): under VS Code's runtime, started
 * by the extension with ELECTRON_RUN_AS_NODE=1 when there is no `node` on PATH, that variable
 * has to be set again, or the executable would start VS Code instead of running the script.
 */
export function runtimeArgv(
  execPath = process.execPath,
  versions: { electron?: string; node?: string } = process.versions as { electron?: string; node?: string },
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  if (versions.electron && env.ELECTRON_RUN_AS_NODE) return ['/usr/bin/env', 'ELECTRON_RUN_AS_NODE=1', execPath];
  return [execPath];
}

/**
 * dist/agent.js: beside the running bundle (dist/vendetta.js), or in the repo's dist/ when the
 * coordinator runs from source under tsx (tests).
 */
export function agentBundlePath(): string {
  const beside = join(__dirname, 'agent.js');
  if (existsSync(beside)) return beside;
  return resolve(__dirname, '..', 'dist', 'agent.js');
}

/**
 * The ProxyCommand argv before `%h`: this runtime and dist/ssh-proxy.js (the small bundle made
 * for it) beside the running bundle, or `dist/vendetta.js ssh-proxy` where that was not shipped.
 */
export function proxyCommandArgv(
  home: string,
  bundleDirs = [__dirname, resolve(__dirname, '..', 'dist')],
  cli = cliBundlePath(),
): string[] {
  for (const dir of bundleDirs) {
    const lean = join(dir, 'ssh-proxy.js');
    if (existsSync(lean)) return [...runtimeArgv(), lean, '--home', home];
  }
  return [...runtimeArgv(), cli, 'ssh-proxy', '--home', home];
}

/** dist/vendetta.js, found the same way. */
export function cliBundlePath(): string {
  const beside = join(__dirname, 'vendetta.js');
  if (existsSync(beside)) return beside;
  return resolve(__dirname, '..', 'dist', 'vendetta.js');
}
