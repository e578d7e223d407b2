/**
 * The making half of a create: the provider's image preparation and create (or adoption of what an
 * earlier create left), the record on disk while the container starts, then bringUp.
 */
import { readFileSync } from 'node:fs';
import type { WorkspaceInfo } from '../protocol';
import { packNodeSshd } from '../providers/broughtSshd';
import type { WorkspaceProvider } from '../providers/contract';
import { bringUp, report, type BringUpDeps, type LoginSetUp, type Progress } from './bringUp';
import { AGENT_HOME_LABEL } from './reconcile';
import {
  loginSpec,
  needsContainerEnv,
  SSHD_BINARY,
  SSHD_CONFIG,
  sshdConfigFile,
  sshdConfigHash,
  sshdFiles,
} from './sshd';
import type { WorkspaceRecord, WorkspaceStore } from './state';

export interface MakeDeps {
  home: string;
  store: WorkspaceStore;
  bringUp: BringUpDeps;
}

/** `adopt`: the provider id of a container of this workspace that an earlier create left. */
export async function makeWorkspace(
  deps: MakeDeps,
  provider: WorkspaceProvider,
  ported: WorkspaceRecord & { sshPort: number },
  adopt: string | undefined,
  progress: Progress,
  signal?: AbortSignal,
  loginSetUp?: LoginSetUp,
): Promise<WorkspaceInfo> {
  const name = ported.spec.name;
  report(
    progress,
    'make',
    adopt
      ? `Resuming the ${provider.name} workspace ${name} left by an earlier create`
      : `Making the ${provider.name} workspace ${name}`,
  );
  let rec: WorkspaceRecord = ported;
  if (provider.prepareImage) {
    const { env, features } = await provider.prepareImage({
      spec: rec.spec,
      nodeFolder: rec.nodeFolder,
      progress: (m) => report(progress, 'make', m),
      signal,
    });
    rec = { ...rec, ...(Object.keys(env).length ? { imageEnv: env } : {}), ...(features ? { features } : {}) };
    if (!Object.keys(env).length) delete rec.imageEnv;
    if (!features) delete rec.features;
  }
  const made = await provider.create({
    spec: rec.spec,
    sshNodePort: ported.sshPort,
    nodeFolder: rec.nodeFolder,
    labels: { [AGENT_HOME_LABEL]: deps.home },
    ssh: { binary: SSHD_BINARY, configPath: SSHD_CONFIG, bring: () => packNodeSshd(deps.home, SSHD_CONFIG) },
    seedFiles: sshdFiles(loginSpec(rec), {
      privateKeyPem: readFileSync(rec.hostKeyFile, 'utf8'),
      publicKey: rec.hostKey.publicKey,
    }),
    ports: Object.entries(rec.servicePorts ?? {}).map(([c, n]) => ({ guestPort: Number(c), nodePort: n })),
    adopt,
    progress: (m) => report(progress, 'make', m),
    signal,
  });
  rec = { ...rec, providerId: made.providerId, phase: 'creating', sshdConfig: sshdConfigHash(loginSpec(rec)) };
  // On disk while the container starts: its fsync also flushes all the engine just unpacked. A
  // crash before it lands loses nothing (the next create adopts the container by its labels).
  const recorded = deps.store.putSoon(rec);
  try {
    // remoteEnv's ${containerEnv:…} needs the container's environment, known only now it exists.
    if (needsContainerEnv(rec.spec) && made.env)
      await provider.putFiles(made.providerId, [sshdConfigFile(loginSpec(rec), made.env)], { signal });
    // An adopted container may run an sshd started with other files: restart it on ours.
    let ws = made;
    if (made.state === 'running' || made.state === 'error') {
      await provider.stop(made.providerId, { signal });
      ws = (await provider.inspect(made.providerId, { signal })) ?? made;
    }
    const info = await bringUp(deps.bringUp, provider, rec, ws, progress, false, signal, loginSetUp);
    await recorded;
    return info;
  } catch (err) {
    await recorded.catch(() => undefined); // the create's own failure is what to say
    throw err;
  }
}
