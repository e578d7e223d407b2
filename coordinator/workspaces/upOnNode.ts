/**
 * What `up` asks of the node and of the workspace: the agent's create (its progress relayed as
 * `up`'s), and SSH sessions as the login user (the clone of `--git`, VS Code's machine settings).
 */
import { randomUUID } from 'node:crypto';
import type { Client } from 'ssh2';
import type { CancellationToken } from 'vscode-jsonrpc';
import { CreateWorkspace, WorkspaceProgress, type DotfilesSpec, type WorkspaceInfo } from '../../agent/protocol';
import { toVendettaError } from '../errors';
import { agentErrorName, checkWorkspaceInfo } from './agentReplies';
import { cloneInWorkspace, type GitSource } from './gitClone';
import type { WorkspaceOps } from './operations';
import type { buildSpec } from './project';
import type { WorkspaceRecord } from './store';
import { connectWorkspace } from './workspaceSsh';

interface CreateMode {
  isNew: boolean;
  /** Make the container again (`up --recreate`). */
  recreate: boolean;
  /** The secrets from `secretsFile`; absent: the workspace has none. */
  secrets: Record<string, string> | undefined;
  /** Checked by validateUp (dotfiles.ts); the agent installs them once per workspace. */
  dotfiles: DotfilesSpec | undefined;
}

export async function create(
  m: WorkspaceOps,
  record: WorkspaceRecord,
  spec: ReturnType<typeof buildSpec>,
  { isNew, recreate, secrets, dotfiles }: CreateMode,
  say: (message: string) => void,
  token?: CancellationToken,
): Promise<WorkspaceInfo> {
  const client = m.client(record.node);
  const agentToken = randomUUID();
  const sub = client.onNotification(WorkspaceProgress, (wp) => {
    // The agent's own step numbers are left out: they start again on a second create (after the
    // build context was sent) and would read as the count going backwards inside the create step.
    if (wp.token === agentToken && typeof wp.message === 'string') say(wp.message.slice(0, 200));
  });
  try {
    const info = checkWorkspaceInfo(
      await client.request(
        CreateWorkspace,
        { spec, progressToken: agentToken, secrets, dotfiles, ...(recreate ? { recreate: true } : {}) },
        token,
      ),
      record.node,
    );
    m.noteInfo(record, info);
    return info;
  } catch (err) {
    const e = toVendettaError(err);
    // A definite refusal (bad image, no sshd…) of a new workspace leaves nothing on the node:
    // forget it here too. A lost link may have left it half-made: keep it, the next up completes it.
    if (
      isNew &&
      e.code === 'AGENT_ERROR' &&
      !['WORKSPACE_CONFLICT', 'BUILD_CONTEXT_MISSING'].includes(agentErrorName(e) ?? '')
    ) {
      const still = await m.inspect(record).catch(() => null);
      if (still === undefined) {
        m.store.remove(record.name, record.node);
        m.forget(record);
      }
    } else if (agentErrorName(e) !== 'WORKSPACE_OUTDATED') {
      // An outdated workspace still runs as it was: only the refusal is news.
      m.noteInfo(record, undefined, e);
    }
    m.emitChange();
    throw e;
  } finally {
    sub.dispose();
  }
}

/** One SSH session with the workspace as its login user, for what `up` does inside it. */
export async function overSsh<T>(
  m: WorkspaceOps,
  record: WorkspaceRecord,
  fn: (ssh: Client) => Promise<T>,
): Promise<T> {
  const sock = await m.openSsh(record);
  const ssh = await connectWorkspace({
    sock,
    alias: record.sshHost,
    user: record.user,
    identityFile: m.identityFile,
    knownHostsFile: m.paths.knownHosts,
  });
  try {
    return await fn(ssh);
  } finally {
    ssh.end();
  }
}

export function clone(m: WorkspaceOps, record: WorkspaceRecord, git: GitSource): Promise<{ cloned: boolean }> {
  return overSsh(m, record, (ssh) => cloneInWorkspace(ssh, record.workspaceFolder, git, record.name));
}
