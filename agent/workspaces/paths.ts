/** Where a workspace's files live on the node, under the agent home. */
import { join } from 'node:path';

export interface WorkspacePaths {
  /** Everything the agent keeps for the workspace; removed with it. */
  dir: string;
  /** The project on the node, bind-mounted at the workspace folder. */
  nodeFolder: string;
  /** The workspace sshd's private host key (0600), and its public line. */
  hostKey: string;
  hostKeyPub: string;
}

export function workspacesRoot(home: string): string {
  return join(home, 'workspaces');
}

export function workspacePaths(home: string, name: string): WorkspacePaths {
  const dir = join(workspacesRoot(home), name);
  return {
    dir,
    nodeFolder: join(dir, 'src'),
    hostKey: join(dir, 'ssh_host_ed25519_key'),
    hostKeyPub: join(dir, 'ssh_host_ed25519_key.pub'),
  };
}

/** The state file: one record per workspace. */
export function workspaceStateFile(stateDir: string): string {
  return join(stateDir, 'workspaces.json');
}
