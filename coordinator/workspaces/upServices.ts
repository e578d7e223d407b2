/**
 * Services as part of `up` and `start`: the agent starts them (in dependency order, behind health
 * checks); both then wait until they settle (`up` reports each change as progress). A second `up`
 * leaves running services alone and starts only the ones that are not running.
 */
import type { CancellationToken } from 'vscode-jsonrpc';
import {
  ListServices,
  ServicesDidChange,
  StartServices,
  type HookName,
  type ServiceSpec,
  type ServiceStatus,
  type WorkspaceServicesStatus,
} from '../../agent/protocol';
import { checkServicesStatus } from '../services/agentReplies';
import type { WorkspaceOps } from './operations';
import type { WorkspaceRecord } from './store';
import { agentErrorName } from './agentReplies';
import { failedSince, followHookOutput, hookFailedError, hookRunning } from './upHooks';

/** Running or on its way there: a second `up` does not touch these. */
export const LIVE_STATES: ReadonlySet<string> = new Set([
  'healthy',
  'running',
  'starting',
  'waiting',
  'restarting',
  'unhealthy',
]);
const LIVE = LIVE_STATES;
/** Will not get better on its own. */
const BAD = new Set(['unhealthy', 'crashloop', 'exited', 'stopped']);
const MAX_WAIT_MS = 10 * 60_000;

/** Every service is ready (healthy, or running without a check), or stuck: bad, or waiting behind a bad one. */
export function servicesSettled(services: readonly ServiceStatus[]): boolean {
  const anyBad = services.some((s) => BAD.has(s.state));
  return services.every(
    (s) => s.state === 'healthy' || s.state === 'running' || BAD.has(s.state) || (s.state === 'waiting' && anyBad),
  );
}

/** How long a chain of services may take to become healthy by their own checks' settings. */
export function settleBudgetMs(specs: readonly ServiceSpec[]): number {
  let total = 0;
  for (const s of specs) {
    const h = s.healthcheck;
    total += h ? h.startPeriodMs + (h.intervalMs + h.timeoutMs) * (h.retries + 1) : 5000;
  }
  return Math.min(MAX_WAIT_MS, Math.max(30_000, total));
}

/** `state` words for a progress line: `db healthy, api starting, web waiting`. */
export function describeServices(services: readonly ServiceStatus[]): string {
  return services.map((s) => `${s.name} ${s.state}`).join(', ');
}

/** StartServices, or undefined when the node's agent has no services (an older agent). */
export async function startServices(
  m: Pick<WorkspaceOps, 'client' | 'log'>,
  record: WorkspaceRecord,
  token?: CancellationToken,
  service?: string,
): Promise<WorkspaceServicesStatus | undefined> {
  try {
    return checkServicesStatus(
      await m
        .client(record.node)
        .request(StartServices, { workspace: record.name, ...(service ? { service } : {}) }, token),
      record.node,
    );
  } catch (err) {
    if (agentErrorName(err) !== 'METHOD_NOT_FOUND') throw err;
    m.log.warn('the agent has no services; upgrade it', { node: record.node });
    return undefined;
  }
}

/**
 * `up`'s services step: start what is not running (all on a fresh workspace), then wait until
 * they settle. Returns the services as they stand, or undefined when the agent has none.
 */
export async function upServices(
  m: Pick<WorkspaceOps, 'client' | 'log'>,
  record: WorkspaceRecord,
  /** The config's services; undefined for `start`, which starts all and waits up to MAX_WAIT_MS. */
  specs: readonly ServiceSpec[] | undefined,
  existed: boolean,
  report: (message: string) => void,
  token?: CancellationToken,
  /** Running services to restart (the sync changed the project; `reload: on-sync`); those restarted are added to `restarted`. */
  reload: { names: readonly string[]; restarted: string[] } = { names: [], restarted: [] },
  /**
   * With it, the lifecycle hooks are waited for too: their output goes to `say` (each line led
   * by the hook's name as `label` gives it), and one that fails is thrown as LIFECYCLE_COMMAND_FAILED.
   */
  hooks?: { label: (hook: HookName) => string; say: (line: string) => void },
): Promise<ServiceStatus[] | undefined> {
  const hookLabel = hooks?.label;
  const client = m.client(record.node);
  let before: WorkspaceServicesStatus['hooks'] | undefined;
  let endFollow: (() => Promise<void>) | undefined;
  let latest: WorkspaceServicesStatus | undefined;
  let wake: (() => void) | undefined;
  const sub = client.onNotification(ServicesDidChange, (raw) => {
    if ((raw as { workspace?: unknown } | undefined)?.workspace !== record.name) return;
    try {
      latest = checkServicesStatus(raw, record.node);
      wake?.();
    } catch {
      // a malformed change: the next poll asks again
    }
  });
  try {
    const services = await settle();
    const failed = hookLabel && latest ? failedSince(before, latest.hooks) : undefined;
    if (failed && hookLabel) throw hookFailedError(record.name, record.node, failed, hookLabel);
    return services;
  } catch (err) {
    if (agentErrorName(err) !== 'METHOD_NOT_FOUND') throw err;
    m.log.warn('the agent has no services; upgrade it', { node: record.node });
    return undefined;
  } finally {
    sub.dispose();
    await endFollow?.();
  }

  async function settle(): Promise<ServiceStatus[] | undefined> {
    if (hooks && hookLabel) {
      before = checkServicesStatus(
        await client.request(ListServices, { workspace: record.name }, token),
        record.node,
      ).hooks;
      endFollow = await followHookOutput(client, record.name, hooks.say, hookLabel, token);
    }
    if (existed && specs) {
      const now = checkServicesStatus(
        await client.request(ListServices, { workspace: record.name }, token),
        record.node,
      );
      const live = new Set(now.services.filter((s) => LIVE.has(s.state)).map((s) => s.name));
      const dead = specs.filter((s) => !live.has(s.name));
      const stale = reload.names.filter((n) => live.has(n));
      // A create hook that failed last time runs again once the project is fixed: a whole start does that.
      const lastFailed = hookLabel ? failedSince(undefined, now.hooks) : undefined;
      const retryHooks = lastFailed !== undefined && lastFailed.name !== 'postStart';
      if (retryHooks) latest = await startServices(m, record, token);
      else if (dead.length === 0 && stale.length === 0) return now.services;
      else if (live.size === 0) latest = await startServices(m, record, token);
      else for (const s of [...dead.map((d) => d.name), ...stale]) latest = await startServices(m, record, token, s);
      if (!retryHooks) reload.restarted.push(...stale);
    } else {
      latest = await startServices(m, record, token);
    }
    if (!latest) return undefined;
    const deadline = Date.now() + (specs ? settleBudgetMs(specs) : MAX_WAIT_MS);
    let said = '';
    while (!token?.isCancellationRequested) {
      const words = describeServices(latest.services);
      if (words !== said) report(words);
      said = words;
      const hooksBusy = hookLabel !== undefined && hookRunning(latest.hooks);
      // A running hook has its own time limit on the node; `up` waits for it.
      if (!hooksBusy && (servicesSettled(latest.services) || Date.now() > deadline)) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
      // A poll too: a change notification may have been lost with a link that dropped.
      latest = checkServicesStatus(await client.request(ListServices, { workspace: record.name }, token), record.node);
    }
    return latest.services;
  }
}
