/**
 * What other parts of the agent need of a workspace: the services supervisor its provider,
 * container and ports; the node-side watches the workspaces made, left running and not being
 * created (the idle watch those with an idle timeout, the port watch all of them).
 */
import type { Logger } from '../log/logger';
import type { ServiceTarget } from '../services/supervisor';
import { workspacePaths } from './paths';
import type { IdleCandidate } from './idleWatch';
import type { PortWatchTarget } from './portWatch';
import type { ProviderLookup } from './providers';
import type { WorkspaceRecord } from './state';

export interface WatchSource {
  records: readonly WorkspaceRecord[];
  providers: ProviderLookup;
  creating: ReadonlySet<string>;
  logger: Logger;
}

export async function serviceTarget(
  rec: WorkspaceRecord,
  providers: ProviderLookup,
  home: string,
): Promise<ServiceTarget> {
  const provider = providers(rec.provider);
  const ws = rec.providerId ? await provider.inspect(rec.providerId) : undefined;
  return {
    spec: rec.spec,
    provider,
    providerId: ws?.providerId,
    running: ws?.state === 'running' && rec.phase === 'ready',
    ...(ws?.env ? { containerEnv: ws.env } : {}),
    ...(rec.features?.hooks.length ? { featureHooks: rec.features.hooks } : {}),
    ports: rec.servicePorts ?? {},
    published: ws?.publishedPorts ?? {},
    ...(ws?.address ? { address: ws.address } : {}),
    dir: workspacePaths(home, rec.spec.name).dir,
  };
}

export function idleCandidates(src: WatchSource): IdleCandidate[] {
  return src.records.flatMap((r) => {
    const w = r.spec.idleTimeoutMs ? runningTarget(src, r, 'the idle watch') : undefined;
    return w ? [{ ...w, idleTimeoutMs: r.spec.idleTimeoutMs! }] : [];
  });
}

export function runningWorkspaces(src: WatchSource): PortWatchTarget[] {
  return src.records.flatMap((r) => {
    const w = runningTarget(src, r, 'the port watch');
    return w ? [w] : [];
  });
}

function runningTarget(src: WatchSource, r: WorkspaceRecord, forWhat: string): PortWatchTarget | undefined {
  if (r.phase !== 'ready' || r.desired !== 'running' || !r.providerId || src.creating.has(r.spec.name))
    return undefined;
  try {
    return { name: r.spec.name, provider: src.providers(r.provider), providerId: r.providerId };
  } catch (err) {
    src.logger.debug(`no provider for ${forWhat}`, { workspace: r.spec.name, err });
    return undefined;
  }
}
