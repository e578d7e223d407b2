/**
 * Where the coordinator's files are, as the extension sees them: the `vendetta.home` setting,
 * else $VENDETTA_HOME, else ~/.vendetta (the same order the CLI uses, minus the setting).
 */
import * as path from 'node:path';

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

export function homeFiles(root: string): HomeFiles {
  return {
    root,
    socket: path.join(root, 'coordinator.sock'),
    sshConfig: path.join(root, 'ssh_config'),
    logsDir: path.join(root, 'logs'),
    nodesFile: path.join(root, 'nodes.yaml'),
  };
}
