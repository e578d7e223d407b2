/**
 * The lifecycle hooks the agent runs during `up` (onCreate, updateContent, postCreate, postStart):
 * their output streamed as progress while they run, `up` waiting until none runs, and a hook that
 * failed during this `up` turned into an error naming the command.
 */
import { randomUUID } from 'node:crypto';
import type { CancellationToken } from 'vscode-jsonrpc';
import {
  HOOK_NAMES,
  ServiceLogLines,
  ServiceLogs,
  UnfollowLogs,
  type HookName,
  type HookRun,
  type WorkspaceServicesStatus,
} from '../../agent/protocol';
import { VendettaError } from '../errors';
import type { AgentClient } from '../nodes/agentClient';

type Hooks = WorkspaceServicesStatus['hooks'];

/** Whether a hook `up` waits for is running (postAttach runs beside a connection, not for `up`). */
export function hookRunning(hooks: Hooks | undefined): boolean {
  return HOOK_NAMES.some((n) => n !== 'postAttach' && hooks?.[n]?.state === 'running');
}

/** The first hook that failed after `before` was read (a run it did not hold), if any. */
export function failedSince(
  before: Hooks | undefined,
  after: Hooks | undefined,
): { name: HookName; run: HookRun } | undefined {
  for (const name of HOOK_NAMES) {
    const run = after?.[name];
    if (name === 'postAttach' || run?.state !== 'failed') continue;
    const was = before?.[name];
    if (was && was.at === run.at && was.state === run.state) continue;
    return { name, run };
  }
  return undefined;
}

export function hookFailedError(
  workspace: string,
  node: string,
  failed: { name: HookName; run: HookRun },
  label: (h: HookName) => string,
): VendettaError {
  const { name, run } = failed;
  const how =
    run.exitCode === null || run.exitCode === undefined ? 'could not run or was ended' : `exited with ${run.exitCode}`;
  return new VendettaError('LIFECYCLE_COMMAND_FAILED', `${label(name)} ${how}${run.failed ? `: ${run.failed}` : ''}`, {
    node,
    hint: `Its output is above and in \`vendetta workspace logs ${workspace} ${name}\`. The workspace runs (\`vendetta workspace ssh ${workspace}\`); the lifecycle commands after it did not run. Fix it, then \`vendetta up\` runs it again${['onCreate', 'updateContent', 'postCreate'].includes(name) ? '' : ' with the others'}.`,
    details: { hook: name, ...(run.failed ? { command: run.failed } : {}), exitCode: run.exitCode ?? null },
  });
}

/**
 * Sends each new line the hooks write to `say` until the returned function is called. A node
 * whose agent cannot follow logs only loses the streaming, not the `up`.
 */
export async function followHookOutput(
  client: AgentClient,
  workspace: string,
  say: (line: string) => void,
  label: (h: HookName) => string,
  token?: CancellationToken,
): Promise<() => Promise<void>> {
  const followToken = randomUUID();
  const hooks = new Set<string>(HOOK_NAMES);
  const sub = client.onNotification(ServiceLogLines, (p) => {
    if (p?.followToken !== followToken || !Array.isArray(p.lines)) return;
    for (const l of p.lines) {
      if (typeof l?.service !== 'string' || !hooks.has(l.service) || typeof l.line !== 'string') continue;
      say(`${label(l.service as HookName)}: ${l.line}`);
    }
  });
  try {
    await client.request(ServiceLogs, { workspace, follow: true, followToken, tail: 0 }, token);
  } catch {
    sub.dispose();
    return async () => undefined;
  }
  return async () => {
    sub.dispose();
    await client.request(UnfollowLogs, { followToken }).catch(() => undefined);
  };
}
