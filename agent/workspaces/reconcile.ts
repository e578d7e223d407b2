/**
 * What the agent finds of its workspaces at the providers, beside its records: which provider
 * workspaces are its own, the one a cut-short create left, and — on daemon start — what is
 * missing or orphaned (logged; nothing is removed, the next create adopts an orphan), and which
 * were left running but are not (a node reboot): those are started again.
 */
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import { RUNNABLE_PROVIDERS } from '../protocol';
import type { CallOptions, ProviderWorkspace, WorkspaceProvider } from '../providers/contract';
import type { ProviderLookup } from './providers';
import type { WorkspaceRecord, WorkspaceStore } from './state';

/** Which agent home made a container: two agents sharing one engine leave each other's alone. */
export const AGENT_HOME_LABEL = 'dev.vendetta.agent-home';

export function ownedBy(w: ProviderWorkspace, home: string): boolean {
  const label = w.labels[AGENT_HOME_LABEL];
  return label === undefined || label === home;
}

/** The provider id of this workspace's container: the recorded one if it exists, else one found by label. */
export async function findOwn(
  provider: WorkspaceProvider,
  name: string,
  preferred: string | undefined,
  home: string,
  call: CallOptions = {},
): Promise<string | undefined> {
  if (preferred && (await provider.inspect(preferred, call))) return preferred;
  return (await provider.list(call)).find((w) => w.name === name && ownedBy(w, home))?.providerId;
}

/**
 * The provider of a workspace that has no record (a remove after the record was lost): the
 * first runnable one holding a workspace of ours by that name, else the first runnable one.
 */
export async function providerHolding(
  providers: ProviderLookup,
  name: string,
  home: string,
  call: CallOptions = {},
): Promise<WorkspaceProvider> {
  let first: WorkspaceProvider | undefined;
  let firstError: unknown;
  for (const kind of RUNNABLE_PROVIDERS) {
    // A provider the node does not have (no LXD) holds nothing; the others are still asked.
    try {
      const provider = providers(kind);
      first ??= provider;
      if ((await provider.list(call)).some((w) => w.name === name && ownedBy(w, home))) return provider;
    } catch (err) {
      firstError ??= err;
    }
  }
  if (first) return first;
  throw firstError;
}

export interface ReconcileDeps {
  store: WorkspaceStore;
  providers: ProviderLookup;
  home: string;
  logger: Logger;
  /** Runs `fn` under the workspace's lock. */
  exclusive(name: string, fn: () => Promise<void>): Promise<void>;
  /** Brings a workspace left running back up (already under its lock). */
  restart(rec: WorkspaceRecord, provider: WorkspaceProvider, ws: ProviderWorkspace): Promise<unknown>;
  /** How long to keep asking a provider that does not answer yet (an engine starting after the agent at boot). */
  retryForMs?: number;
  /** The first wait between those attempts (doubling, at most 15 s). */
  retryDelayMs?: number;
}

export async function reconcileAll(deps: ReconcileDeps): Promise<void> {
  const { store, logger } = deps;
  let pending = store.all().map((r) => r.spec.name);
  const until = Date.now() + (deps.retryForMs ?? 5 * 60_000);
  let delay = deps.retryDelayMs ?? 1000;
  for (;;) {
    const again: string[] = [];
    for (const name of pending) {
      await deps.exclusive(name, async () => {
        if ((await reconcileOne(deps, name)) === 'unreachable') again.push(name);
      });
    }
    pending = again;
    if (pending.length === 0 || Date.now() + delay > until) break;
    logger.info('the provider does not answer yet; reconciling again', { workspaces: pending, inMs: delay });
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 15_000);
  }
  // Orphans are only logged (the next create adopts them); a provider no record uses is left alone.
  for (const kind of new Set(store.all().map((r) => r.provider))) {
    const names = new Set(
      store
        .all()
        .filter((r) => r.provider === kind)
        .map((r) => r.spec.name),
    );
    try {
      for (const w of await deps.providers(kind).list()) {
        if (ownedBy(w, deps.home) && !names.has(w.name))
          logger.info('workspace without a record; the next create of its name adopts it', {
            workspace: w.name,
            provider: kind,
            providerId: w.providerId,
          });
      }
    } catch (err) {
      logger.info('provider not reachable while reconciling', { provider: kind, err });
    }
  }
}

/** Under the workspace's lock, on a fresh copy of its record: a create may have run meanwhile. */
async function reconcileOne(deps: ReconcileDeps, name: string): Promise<'done' | 'unreachable'> {
  const { store, logger } = deps;
  const rec = store.get(name);
  if (!rec) return 'done';
  try {
    const provider = deps.providers(rec.provider);
    const ws = rec.providerId ? await provider.inspect(rec.providerId) : undefined;
    if (ws) {
      // The node rebooted (or its engine restarted) under a workspace the user left running.
      if (rec.phase === 'ready' && rec.desired === 'running' && ws.state !== 'running') {
        logger.info('starting a workspace that was running before the agent restarted', {
          workspace: name,
          state: ws.state,
        });
        await deps.restart(rec, provider, ws);
      }
      return 'done';
    }
    const found = await findOwn(provider, rec.spec.name, undefined, deps.home);
    if (found && !rec.providerId) {
      store.put({ ...rec, providerId: found });
      logger.info('found the container of a cut-short create', { workspace: rec.spec.name, providerId: found });
    } else if (rec.providerId) {
      logger.warn('workspace is missing: its container was removed outside the agent', {
        workspace: rec.spec.name,
        providerId: rec.providerId,
      });
    }
  } catch (err) {
    logger.warn('could not reconcile a workspace', { workspace: rec.spec.name, err });
    if (err instanceof AgentError && err.code === 'PROVIDER_UNAVAILABLE') return 'unreachable';
  }
  return 'done';
}
