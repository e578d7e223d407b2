/**
 * The key that logs in to workspaces: one ed25519 pair in `$VENDETTA_HOME/keys/workspace_ed25519`,
 * made on the first `up`. Its public half goes into every workspace's authorized_keys; the
 * generated ssh_config names its private half as IdentityFile.
 */
import { join } from 'node:path';
import type { HomePaths } from '../home';
import { ensureKeyFile } from '../ssh/identity';

export function workspaceKeyPath(paths: HomePaths): string {
  return join(paths.keysDir, 'workspace_ed25519');
}

export async function ensureWorkspaceKey(
  paths: HomePaths,
): Promise<{ privateKeyPath: string; publicKey: string; generated: boolean }> {
  return ensureKeyFile(workspaceKeyPath(paths));
}
