/**
 * Taking workspaces down: removing one (its containers, folder and record) and discarding only
 * the container for `--recreate`.
 */
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import { removeTreeAt } from '../fs/beneathPaths';
import type { WorkspaceSpec } from '../protocol';
import type { Progress } from './bringUp';
import { report } from './bringUp';
import { workspacePaths } from './paths';
import type { ProviderLookup } from './providers';
import { ownedBy, providerHolding } from './reconcile';
import { missing, notFound } from './refusals';
import type { WorkspaceRecord, WorkspaceStore } from './state';

export interface TeardownDeps {
  home: string;
  store: WorkspaceStore;
  providers: ProviderLookup;
  logger: Logger;
  /** Cancels the provider's calls (the client cancelled); what is not removed yet stays for the next remove. */
  signal?: AbortSignal;
}

/** Deletes the workspace's folder (project copy, host key) and its record. */
export function forgetWorkspace(deps: Pick<TeardownDeps, 'home' | 'store'>, name: string): void {
  const { dir } = workspacePaths(deps.home, name);
  try {
    // Through descriptors: the project folder inside was the workspace's to change.
    removeTreeAt(dir);
  } catch (err) {
    throw new AgentError('INTERNAL', `Could not delete the files of workspace ${name} in ${dir}`, {
      hint: `Some were made inside the workspace by another user; delete ${dir} on the node (e.g. with sudo), then remove the workspace again with force.`,
      cause: err,
    });
  }
  deps.store.delete(name);
}

/** Removes the workspace's containers (its services first), its folder and its record; caller holds its lock. */
export async function removeWorkspace(
  deps: TeardownDeps,
  name: string,
  force: boolean,
  beforeRemove: () => Promise<void>,
): Promise<{ name: string }> {
  const rec = deps.store.get(name);
  const call = { signal: deps.signal };
  const provider = rec ? deps.providers(rec.provider) : await providerHolding(deps.providers, name, deps.home, call);
  const ours = (await provider.list(call)).filter((w) => w.name === name && ownedBy(w, deps.home));
  const known = rec?.providerId ? await provider.inspect(rec.providerId, call) : undefined;
  const victims = [...new Set([...(known ? [known.providerId] : []), ...ours.map((w) => w.providerId)])];
  if (!rec && victims.length === 0) {
    if (force) return { name };
    throw notFound(name);
  }
  if (!force) {
    if ([known, ...ours].some((w) => w?.state === 'running')) {
      throw new AgentError('WORKSPACE_RUNNING', `Workspace ${name} is running`, {
        hint: `Stop it first, or remove it with force (\`vendetta workspace rm ${name} --force\`).`,
      });
    }
    if (rec && rec.phase === 'ready' && victims.length === 0) throw missing(rec);
  }
  // Files the workspace's root made in the project folder may not be ours to delete from
  // the node: a non-root agent empties the folder from inside first, while it still can.
  const running = known?.state === 'running' ? known : ours.find((w) => w.state === 'running');
  if (rec && running && process.getuid?.() !== 0) {
    await provider
      .exec(running.providerId, ['find', rec.spec.workspaceFolder, '-mindepth', '1', '-delete'], {
        ...call,
        timeoutMs: 120_000,
      })
      .catch(() => undefined);
  }
  await beforeRemove();
  for (const id of victims) await provider.remove(id, call);
  forgetWorkspace(deps, name);
  deps.logger.info('workspace removed', { workspace: name, containers: victims.length, force });
  return { name };
}

/**
 * For `--recreate`: the container goes (its services first), the record stays as a cut-short
 * create, so the create that follows makes a new container with the same node folder, host
 * key and service node ports. A workspace without a record has nothing to discard.
 */
export async function discardContainer(
  deps: TeardownDeps,
  spec: WorkspaceSpec,
  progress: Progress,
  beforeRecreate: () => Promise<void>,
): Promise<void> {
  const name = spec.name;
  const rec = deps.store.get(name);
  if (!rec) return;
  report(progress, 'check', `Removing the container of ${name} to make it again (the workspace folder stays)`);
  const provider = deps.providers(rec.provider);
  const call = { signal: deps.signal };
  await beforeRecreate();
  const ours = (await provider.list(call))
    .filter((w) => w.name === name && ownedBy(w, deps.home))
    .map((w) => w.providerId);
  for (const id of new Set([...(rec.providerId ? [rec.providerId] : []), ...ours])) await provider.remove(id, call);
  // The next create's spec wins (a cut-short create), so a new provider is taken too.
  const next: WorkspaceRecord = { ...rec, spec, provider: spec.provider, phase: 'creating' };
  delete next.providerId;
  delete next.login;
  deps.store.put(next);
  deps.logger.info('workspace container removed to be made again', { workspace: name });
}
