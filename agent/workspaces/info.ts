/** A workspace record plus what the provider reports → the WorkspaceInfo the protocol returns. */
import { AgentError } from '../errors';
import { HOOK_NAMES, specImage, type WorkspaceInfo, type WorkspaceState } from '../protocol';
import type { CallOptions, ProviderWorkspace } from '../providers/contract';
import type { ProviderLookup } from './providers';
import type { WorkspaceRecord } from './state';

export type ProviderView =
  /** The provider answered: the workspace as it sees it, or undefined when it does not know it. */
  | { kind: 'seen'; ws: ProviderWorkspace | undefined }
  /** The provider could not be asked (engine down): say so instead of guessing. */
  | { kind: 'unreachable'; code: string; message: string; hint?: string };

/** What the workspace's provider says of it, or why it could not be asked. */
export async function providerView(
  providers: ProviderLookup,
  rec: WorkspaceRecord,
  call: CallOptions = {},
): Promise<ProviderView> {
  try {
    const provider = providers(rec.provider);
    return { kind: 'seen', ws: rec.providerId ? await provider.inspect(rec.providerId, call) : undefined };
  } catch (err) {
    const e =
      err instanceof AgentError ? err : new AgentError('PROVIDER_ERROR', (err as Error).message, { cause: err });
    return { kind: 'unreachable', code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
  }
}

export function workspaceInfo(rec: WorkspaceRecord, view: ProviderView, creating: boolean): WorkspaceInfo {
  const { spec } = rec;
  const info: WorkspaceInfo = {
    name: spec.name,
    provider: rec.provider,
    state: 'missing',
    image: specImage(spec),
    user: spec.user,
    workspaceFolder: spec.workspaceFolder,
    nodeFolder: rec.nodeFolder,
    ssh: null,
    createdAt: rec.createdAt,
  };
  if (rec.providerId) info.providerId = rec.providerId;
  if (rec.member) info.member = rec.member;
  if (rec.features)
    info.features = {
      hooks: HOOK_NAMES.filter((n) => rec.features!.hooks.some((f) => f.hooks[n] !== undefined)),
      vscode: rec.features.vscode,
    };
  if (creating) return { ...info, state: 'creating' };
  if (view.kind === 'unreachable') {
    return {
      ...info,
      state: 'error',
      error: { code: view.code, message: view.message, ...(view.hint ? { hint: view.hint } : {}) },
    };
  }
  const ws = view.ws;
  if (!ws) {
    if (rec.phase === 'creating') return { ...info, state: 'error', error: incomplete(spec.name) };
    return {
      ...info,
      state: 'missing',
      error: {
        code: 'WORKSPACE_MISSING',
        message: `The ${rec.provider} workspace ${spec.name} was removed outside Vendetta`,
        hint: `Create it again (\`vendetta workspace up\`) or remove it (\`vendetta workspace rm ${spec.name} --force\`).`,
      },
    };
  }
  info.providerId = ws.providerId;
  if (ws.member) info.member = ws.member;
  if (ws.startedAt) info.startedAt = ws.startedAt;
  let state: WorkspaceState;
  switch (ws.state) {
    case 'running':
      state = rec.phase === 'creating' ? 'error' : 'running';
      break;
    case 'created':
    case 'stopped':
      state = rec.phase === 'creating' ? 'error' : 'stopped';
      break;
    case 'error':
      state = 'error';
      break;
  }
  if (state === 'error') {
    info.error =
      rec.phase === 'creating' && ws.state !== 'error'
        ? incomplete(spec.name)
        : {
            code: 'PROVIDER_ERROR',
            message: `The workspace ${spec.name} failed: ${ws.error ?? 'unknown error'}`,
            hint: `Look at its output (\`vendetta workspace status ${spec.name}\`), then remove and create it again.`,
          };
  }
  if (state === 'stopped' && rec.stopped) info.stopped = { ...rec.stopped };
  if (state === 'running' && ws.sshPort !== undefined)
    info.ssh = { host: '127.0.0.1', port: ws.sshPort, hostKey: rec.hostKey };
  return { ...info, state };
}

function incomplete(name: string): { code: string; message: string; hint: string } {
  return {
    code: 'CREATE_INCOMPLETE',
    message: `Creating the workspace ${name} did not finish`,
    hint: 'Run the create again (`vendetta workspace up`): it picks up where it stopped.',
  };
}
