/**
 * The login user of a workspace: root is always there; any other user is created inside the
 * running workspace when missing (useradd, argv only) and gets its authorized_keys, owned by it.
 */
import { lchownSync } from 'node:fs';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import type { CallOptions, WorkspaceProvider } from '../providers/contract';
import type { WorkspaceSpec } from '../protocol';
import { authorizedKeysFile } from './sshd';

async function idOf(
  provider: WorkspaceProvider,
  id: string,
  flag: '-u' | '-g',
  user: string,
  call: CallOptions,
): Promise<number | undefined> {
  const r = await provider.exec(id, ['id', flag, user], { ...call, timeoutMs: 15_000 });
  const n = Number(r.stdout.trim());
  return r.exitCode === 0 && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** The login user's uid and gid inside the workspace (0/0 for root). */
export async function ensureLoginUser(
  provider: WorkspaceProvider,
  id: string,
  spec: WorkspaceSpec,
  call: CallOptions = {},
): Promise<{ uid: number; gid: number }> {
  const { user } = spec;
  if (user === 'root') return { uid: 0, gid: 0 };
  let uid = await idOf(provider, id, '-u', user, call);
  if (uid === undefined) {
    const bash = await provider.exec(id, ['test', '-x', '/bin/bash'], { ...call, timeoutMs: 15_000 });
    // `-p '*'`: no password, yet not locked — sshd without PAM refuses locked accounts even for keys.
    const add = await provider.exec(
      id,
      ['useradd', '--create-home', '--password', '*', '--shell', bash.exitCode === 0 ? '/bin/bash' : '/bin/sh', user],
      { ...call, timeoutMs: 30_000 },
    );
    uid = await idOf(provider, id, '-u', user, call);
    if (uid === undefined) {
      throw new AgentError(
        'PROVIDER_ERROR',
        `Could not create the user ${user} in the workspace ${spec.name}: ${(add.stderr || add.stdout).trim() || `useradd exited with ${add.exitCode}`}`,
        {
          provider: provider.name,
          hint: 'Use an image that has useradd (package passwd), or one where the user already exists, or log in as root.',
        },
      );
    }
  }
  const gid = (await idOf(provider, id, '-g', user, call)) ?? uid;
  await provider.putFiles(id, [authorizedKeysFile(user, spec.authorizedKeys, uid, gid)], call);
  return { uid, gid };
}

/**
 * The project folder belongs to a non-root login user inside, so it can create files there.
 * Only a root agent can hand it over; files synced later are handed over by sync-receive.
 */
export function giveFolderTo(folder: string, ids: { uid: number; gid: number }, logger: Logger): void {
  if (process.getuid?.() !== 0) return;
  try {
    lchownSync(folder, ids.uid, ids.gid);
  } catch (err) {
    logger.warn('could not give the project folder to the login user', { folder, err });
  }
}
