/**
 * Where the coordinator's files are, as the extension sees them: the `vendetta.home` setting,
 * else $VENDETTA_HOME, else ~/.vendetta (the same order the CLI uses, minus the setting).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { WorkspaceConfiguration } from 'vscode';
import { machineSetting } from '../util/machineSettings';

export interface HomeFiles {
  root: string;
  socket: string;
  sshConfig: string;
  logsDir: string;
  nodesFile: string;
}

export function resolveHome(setting: string | undefined, env: NodeJS.ProcessEnv, homedir: string): string {
  const configured = setting?.trim();
  if (configured) return path.resolve(configured.replace(/^~(?=$|\/)/, homedir));
  const fromEnv = env.VENDETTA_HOME?.trim();
  if (fromEnv) return path.resolve(fromEnv);
  return path.join(homedir, '.vendetta');
}

/** The home the `vendetta` settings name (the user's own `vendetta.home` only: a machine setting). */
export function homeFromSettings(
  config: Pick<WorkspaceConfiguration, 'inspect'>,
  env: NodeJS.ProcessEnv = process.env,
  homedir = os.homedir(),
): string {
  return resolveHome(machineSetting<string>(config, 'home'), env, homedir);
}

export function homeFiles(root: string): HomeFiles {
  return {
    root,
    socket: path.join(root, 'coordinator.sock'),
    sshConfig: path.join(root, 'ssh_config'),
    logsDir: path.join(root, 'logs'),
    nodesFile: path.join(root, 'nodes.yaml'),
  };
}
