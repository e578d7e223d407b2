/** A new workspace's record: its folder on the node (0700), the project folder in it, a fresh host key. */
import { chmodSync, mkdirSync } from 'node:fs';
import type { WorkspaceSpec } from '../protocol';
import { writeFileAtomicSync } from '../../common/fs/atomicWrite';
import { generateHostKey } from './hostKey';
import { workspacePaths } from './paths';
import type { WorkspaceRecord } from './state';

export function newWorkspaceRecord(home: string, spec: WorkspaceSpec): WorkspaceRecord {
  const paths = workspacePaths(home, spec.name);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  mkdirSync(paths.nodeFolder, { recursive: true });
  chmodSync(paths.nodeFolder, 0o755); // the daemon's umask is 077; the login user must get in
  const key = generateHostKey(`vendetta-workspace-${spec.name}`);
  writeFileAtomicSync(paths.hostKey, key.privateKeyPem, { mode: 0o600 });
  writeFileAtomicSync(paths.hostKeyPub, `${key.publicKey} vendetta-workspace-${spec.name}\n`, { mode: 0o644 });
  return {
    spec,
    provider: spec.provider,
    hostKey: { type: key.type, publicKey: key.publicKey, fingerprint: key.fingerprint },
    hostKeyFile: paths.hostKey,
    nodeFolder: paths.nodeFolder,
    createdAt: new Date().toISOString(),
    phase: 'creating',
  };
}
