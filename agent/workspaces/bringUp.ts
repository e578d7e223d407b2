/**
 * Bringing a made workspace up: start it (a taken node port said as such), set up its login
 * user and the project folder's owner, wait until its SSH server answers, and record it ready.
 */
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import type { WorkspaceInfo } from '../protocol';
import type { CallOptions, ProviderWorkspace, WorkspaceProvider } from '../providers/contract';
import { workspaceInfo } from './info';
import { ensureLoginUser, giveFolderTo } from './login';
import { portTakenError } from './refusals';
import { authorizedKeysFile } from './sshd';
import { waitForSsh } from './sshReady';
import type { WorkspaceRecord } from './state';
import { checkedLogin } from './syncTarget';

export type Progress = (step: number, total: number, message: string) => void;

/**
 * The steps of a create or start, in order, as progress counts them (`[3/5]`): check the record
 * and host key, make the workspace (image, container), start it, set up the login user, wait
 * until its SSH server answers (and anything after, such as dotfiles).
 */
const CREATE_STEPS = ['check', 'make', 'start', 'login', 'ready'] as const;
export type CreateStep = (typeof CREATE_STEPS)[number];

/** Reports `message` as `step` of a create or start. */
export function report(progress: Progress, step: CreateStep, message: string): void {
  progress(CREATE_STEPS.indexOf(step) + 1, CREATE_STEPS.length, message);
}

/** More set-up of the login (a create's secrets, dotfiles, git identity), done while sshd starts. */
export type LoginSetUp = (providerId: string, user: string, provider: WorkspaceProvider) => Promise<void>;

export interface BringUpDeps {
  logger: Logger;
  sshReadyTimeoutMs?: number;
  /** Saves the record once the workspace is ready. */
  save(rec: WorkspaceRecord): void;
}

/** Starts the workspace if needed, sets up its login user, waits for its sshd, marks it ready. */
export async function bringUp(
  deps: BringUpDeps,
  provider: WorkspaceProvider,
  rec: WorkspaceRecord,
  ws: ProviderWorkspace,
  progress: Progress,
  refreshRootKeys: boolean,
  signal?: AbortSignal,
  whileSshdStarts?: LoginSetUp,
): Promise<WorkspaceInfo> {
  const id = ws.providerId;
  const call = { signal };
  const name = rec.spec.name;
  report(progress, 'start', ws.state === 'running' ? `Workspace ${name} is running` : `Starting workspace ${name}`);
  const running =
    ws.state === 'running'
      ? ws
      : await provider
          .start(id, { ...call, progress: (m) => report(progress, 'start', m) })
          .catch((err: unknown) => Promise.reject(portTakenError(err, name, rec) ?? err));
  const port = running.sshPort ?? (await provider.inspect(id, call))?.sshPort;
  if (port === undefined) throw await notReady(provider, id, name, 'the engine reports no published SSH port', call);
  // The wait starts now: the server boots (the container's init, the engine's port proxy) while the
  // login user is set up through the engine, which needs no SSH.
  const giveUp = new AbortController();
  const sshd = waitForSsh({
    host: '127.0.0.1',
    port,
    timeoutMs: deps.sshReadyTimeoutMs ?? 20_000,
    signal: giveUp.signal,
    stillWorth: async () => {
      if (signal?.aborted) return 'the start was cancelled';
      const now = await provider.inspect(id, call);
      if (!now) return 'the workspace was removed while starting';
      if (now.state !== 'running') return `the workspace stopped while starting (${now.error ?? now.state})`;
      return undefined;
    },
  });
  let login: WorkspaceRecord['login'];
  try {
    report(progress, 'login', `Setting up the login user ${rec.spec.user}`);
    login = await setUpLoginUser(deps, provider, id, rec, refreshRootKeys, call);
    await whileSshdStarts?.(id, rec.spec.user, provider);
  } catch (err) {
    giveUp.abort();
    await sshd;
    throw err;
  }
  report(progress, 'ready', `Waiting for the SSH server of ${name} on 127.0.0.1:${port}`);
  const ready = await sshd;
  if ('error' in ready) throw await notReady(provider, id, name, ready.error, call);
  const done: WorkspaceRecord = {
    ...rec,
    providerId: id,
    phase: 'ready',
    sshPort: port,
    desired: 'running',
    ...(running.member ? { member: running.member } : {}),
    ...(login ? { login } : {}),
  };
  delete done.stopped;
  deps.save(done);
  return workspaceInfo(done, { kind: 'seen', ws: { ...running, sshPort: port } }, false);
}

/** The login user made (and its keys put) inside; the ids synced files get, once known. */
async function setUpLoginUser(
  deps: BringUpDeps,
  provider: WorkspaceProvider,
  id: string,
  rec: WorkspaceRecord,
  refreshRootKeys: boolean,
  call: CallOptions,
): Promise<WorkspaceRecord['login']> {
  const name = rec.spec.name;
  if (refreshRootKeys && rec.spec.user === 'root')
    await provider.putFiles(id, [authorizedKeysFile('root', rec.spec.authorizedKeys, 0, 0)], call);
  const inside = await ensureLoginUser(provider, id, rec.spec, call);
  const seen = provider.nodeIds ? await provider.nodeIds(id, inside, call) : inside;
  // The ids synced files get are those of the first bring-up (the image's, before any code of
  // the workspace ran); what the workspace says later never changes them.
  const login = rec.login ?? checkedLogin(name, seen);
  if (rec.login && (seen.uid !== rec.login.uid || seen.gid !== rec.login.gid))
    deps.logger.warn('the login user has other ids inside the workspace now; keeping the recorded ones', {
      workspace: name,
      seen,
      recorded: rec.login,
    });
  if (login) giveFolderTo(rec.nodeFolder, login, deps.logger);
  return login;
}

async function notReady(
  provider: WorkspaceProvider,
  id: string,
  name: string,
  why: string,
  call: CallOptions,
): Promise<AgentError> {
  const output = await provider.logs(id, 15, call).catch(() => '');
  return new AgentError('PROVIDER_ERROR', `The SSH server of workspace ${name} did not start: ${why}`, {
    provider: provider.name,
    hint: output ? `Its output:\n${output}` : 'The workspace produced no output; check the image.',
  });
}
