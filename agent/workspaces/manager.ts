/**
 * The agent's workspaces: lifecycle through a provider, a state file, and reconciliation with
 * what the provider reports. Operations on one workspace run one at a time (two creates of the
 * same name never make two containers); different workspaces proceed in parallel.
 */
import { KeyedMutex } from '../../common/async/keyedMutex';
import type { Logger } from '../log/logger';
import {
  type SyncReadResult,
  type SyncScanChange,
  type SyncScanEntry,
  type SyncTarget,
  type WorkspaceInfo,
  type WorkspaceSpec,
  type DotfilesSpec,
  type CreateWarning,
} from '../protocol';
import { nodePortProbe, type PortChoice, type PortProbe } from '../services/ports';
import type { ServiceTarget } from '../services/supervisor';
import { providerView, workspaceInfo } from './info';
import { hopelessCreate, recordForCreate, withNodePorts } from './recordForCreate';
import { workspacePaths, workspaceStateFile } from './paths';
import type { ProviderLookup } from './providers';
import { applySshdConfig, loginSpec, sshdConfigHash } from './sshd';
import { WorkspaceStore, type WorkspaceRecord } from './state';
import { bakedDifferences } from './baked';
import { missing, notFound, otherProvider, outdated } from './refusals';
import { discardContainer, forgetWorkspace, removeWorkspace, type TeardownDeps } from './teardown';
import { SyncAccess } from './syncAccess';
import { findOwn, reconcileAll } from './reconcile';
import { bringUp, report, type BringUpDeps, type LoginSetUp, type Progress } from './bringUp';
import type { IdleCandidate } from './idleWatch';
import type { PortWatchTarget } from './portWatch';
import { setUpLogin } from './loginSetup';
import { makeWorkspace } from './make';
import { idleCandidates, runningWorkspaces, serviceTarget, type WatchSource } from './targets';
import { storeSecrets } from './secrets';

export { AGENT_HOME_LABEL } from './reconcile';

export type { Progress } from './bringUp';

/** What the services supervisor hooks into: a workspace's services stop before it does. */
export interface WorkspaceServiceHooks {
  beforeStop(name: string): Promise<void>;
  beforeRemove(name: string): Promise<void>;
  /** The container is made again: services stop, and postCreate runs again in the new one. */
  beforeRecreate(name: string): Promise<void>;
  portsChosen(name: string, dir: string, spec: WorkspaceSpec, choices: readonly PortChoice[]): void;
}

export interface WorkspaceManagerOptions {
  home: string;
  stateDir: string;
  logger: Logger;
  providers: ProviderLookup;
  sshReadyTimeoutMs?: number;
  /** How free node ports are found for the SSH server and service ports (the node's own stack by default). */
  portProbe?: PortProbe;
}

export class WorkspaceManager {
  private readonly store: WorkspaceStore;
  private readonly locks = new KeyedMutex();
  private readonly creating = new Set<string>();
  private readonly sync = new SyncAccess(
    (p) => this.opts.providers(p),
    (name) => this.required(name),
    (name, fn) => this.exclusive(name, fn),
  );
  private serviceHooks: WorkspaceServiceHooks | undefined;

  constructor(private readonly opts: WorkspaceManagerOptions) {
    this.store = new WorkspaceStore(workspaceStateFile(opts.stateDir), opts.logger);
  }

  setServiceHooks(hooks: WorkspaceServiceHooks): void {
    this.serviceHooks = hooks;
  }

  /** Runs `fn` after every earlier operation on `name` has finished. */
  private exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(name, fn);
  }

  /**
   * `signal` cancels the provider's calls (the client cancelled); what was made stays for the next
   * create. `secrets` replace the workspace's (none: it has none any more); see secrets.ts.
   * `dotfiles` are installed once per workspace (dotfiles.ts).
   */
  create(
    asked: WorkspaceSpec,
    progress: Progress = () => undefined,
    recreate = false,
    signal?: AbortSignal,
    secrets?: Readonly<Record<string, string>>,
    dotfiles?: DotfilesSpec,
  ): Promise<WorkspaceInfo> {
    const secretNames = Object.keys(secrets ?? {}).sort();
    const spec: WorkspaceSpec = secretNames.length ? { ...asked, secretNames } : asked;
    return this.exclusive(spec.name, async () => {
      this.creating.add(spec.name);
      try {
        const hadSecrets = !!this.store.get(spec.name)?.spec.secretNames?.length;
        if (recreate) await this.discardContainer(spec, progress, signal);
        let warnings: CreateWarning[] = [];
        // Run by bringUp once the login user exists, while the workspace's sshd starts.
        const loginSetUp: LoginSetUp = async (providerId, user, provider) => {
          warnings = await setUpLogin(
            provider,
            { workspace: spec.name, providerId, user, gitIdentity: spec.gitIdentity, secrets, hadSecrets, signal },
            this.opts.logger,
            dotfiles && {
              dotfiles,
              workspaceDir: workspacePaths(this.opts.home, spec.name).dir,
              say: (m) => report(progress, 'ready', m),
            },
          );
        };
        const info = await this.createLocked(spec, progress, signal, loginSetUp);
        storeSecrets(workspacePaths(this.opts.home, spec.name).dir, secrets);
        return warnings.length ? { ...info, warnings } : info;
      } finally {
        this.creating.delete(spec.name);
      }
    });
  }

  private async createLocked(
    spec: WorkspaceSpec,
    progress: Progress,
    signal?: AbortSignal,
    loginSetUp?: LoginSetUp,
  ): Promise<WorkspaceInfo> {
    const provider = this.opts.providers(spec.provider);
    const existing = this.store.get(spec.name);
    if (existing?.phase === 'ready') {
      const diffs = bakedDifferences(existing.spec, existing.servicePorts, spec);
      if (diffs.length) throw outdated(spec, diffs);
    }
    if (existing && existing.provider !== spec.provider) throw otherProvider(spec, existing);
    const refused = provider.refusal?.(spec, this.opts.home);
    if (refused) throw refused;
    report(
      progress,
      'check',
      existing ? `Checking workspace ${spec.name}` : `Preparing the folder and host key of workspace ${spec.name}`,
    );
    let rec = recordForCreate(this.opts.home, existing, spec);
    this.store.put(rec);
    try {
      if (rec.phase === 'ready' && rec.providerId) {
        const ws = await provider.inspect(rec.providerId, { signal });
        if (ws) {
          const sshdConfig = sshdConfigHash(loginSpec(rec));
          let now = ws;
          if (rec.sshdConfig !== sshdConfig) {
            now = await applySshdConfig(
              provider,
              ws,
              loginSpec(rec),
              async () => this.serviceHooks?.beforeStop(spec.name),
              { signal },
            );
            rec = { ...rec, sshdConfig };
            this.store.put(rec);
          }
          return await bringUp(this.bringUpDeps(), provider, rec, now, progress, true, signal, loginSetUp);
        }
        this.opts.logger.warn('workspace container was removed outside the agent; making it again', {
          workspace: spec.name,
          providerId: rec.providerId,
        });
      }
      const adopt = await findOwn(provider, spec.name, rec.providerId, this.opts.home, { signal });
      return await makeWorkspace(
        { home: this.opts.home, store: this.store, bringUp: this.bringUpDeps() },
        provider,
        await this.choosePorts(rec, adopt !== undefined),
        adopt,
        progress,
        signal,
        loginSetUp,
      );
    } catch (err) {
      // A config that cannot work leaves nothing behind; anything else keeps the record so
      // the next create (or remove) finds what was made.
      if (!existing && hopelessCreate(err)) this.forget(spec.name);
      throw err;
    }
  }

  private discardContainer(spec: WorkspaceSpec, progress: Progress, signal?: AbortSignal): Promise<void> {
    return discardContainer(this.teardownDeps(signal), spec, progress, async () =>
      this.serviceHooks?.beforeRecreate(spec.name),
    );
  }

  /** Node ports of a workspace about to be made, remembered in its record (a later create keeps them). */
  private async choosePorts(rec: WorkspaceRecord, adopting: boolean): Promise<WorkspaceRecord & { sshPort: number }> {
    const { rec: next, choices } = await withNodePorts(rec, adopting, this.opts.portProbe ?? nodePortProbe);
    if (!choices) return next;
    this.store.put(next);
    this.serviceHooks?.portsChosen(rec.spec.name, workspacePaths(this.opts.home, rec.spec.name).dir, rec.spec, choices);
    return next;
  }

  /** What the services supervisor needs of a workspace (not under the workspace's lock: read only). */
  async serviceTarget(name: string): Promise<ServiceTarget> {
    return serviceTarget(this.required(name), this.opts.providers, this.opts.home);
  }

  /** The workspaces the idle watch looks at: made, left running, with an idle timeout. */
  idleCandidates(): IdleCandidate[] {
    return idleCandidates(this.watchSource());
  }

  /** The workspaces made and left running (the port watch looks inside these). */
  runningWorkspaces(): PortWatchTarget[] {
    return runningWorkspaces(this.watchSource());
  }

  private watchSource(): WatchSource {
    const { providers, logger } = this.opts;
    return { records: this.store.all(), providers, creating: this.creating, logger };
  }

  /** Names of every workspace with a record. */
  names(): string[] {
    return this.store.all().map((r) => r.spec.name);
  }

  /** What bringUp (start if needed, login user, wait for sshd, mark ready) needs of the manager. */
  private bringUpDeps(): BringUpDeps {
    return {
      logger: this.opts.logger,
      save: (r: WorkspaceRecord) => this.store.put(r),
      ...(this.opts.sshReadyTimeoutMs !== undefined ? { sshReadyTimeoutMs: this.opts.sshReadyTimeoutMs } : {}),
    };
  }

  start(name: string, progress: Progress = () => undefined, signal?: AbortSignal): Promise<WorkspaceInfo> {
    return this.exclusive(name, async () => {
      const rec = this.required(name);
      if (rec.phase === 'creating') return this.createLocked(rec.spec, progress, signal);
      const provider = this.opts.providers(rec.provider);
      const ws = rec.providerId ? await provider.inspect(rec.providerId, { signal }) : undefined;
      if (!ws) throw missing(rec);
      return bringUp(this.bringUpDeps(), provider, rec, ws, progress, false, signal);
    });
  }

  /** Stops the workspace (its services first); `idle` when the agent's idle watch decided it. */
  stop(name: string, reason: 'request' | 'idle' = 'request', signal?: AbortSignal): Promise<WorkspaceInfo> {
    return this.exclusive(name, async () => {
      const rec = this.required(name);
      const provider = this.opts.providers(rec.provider);
      const ws = rec.providerId ? await provider.inspect(rec.providerId, { signal }) : undefined;
      if (!ws) throw missing(rec);
      await this.serviceHooks?.beforeStop(name);
      await provider.stop(ws.providerId, { signal });
      const stopped: WorkspaceRecord = {
        ...rec,
        desired: 'stopped',
        stopped: { reason, at: new Date().toISOString() },
      };
      this.store.put(stopped);
      return this.infoOf(stopped, signal);
    });
  }

  remove(name: string, force: boolean, signal?: AbortSignal): Promise<{ name: string }> {
    return this.exclusive(name, async () => {
      return removeWorkspace(this.teardownDeps(signal), name, force, async () => this.serviceHooks?.beforeRemove(name));
    });
  }

  async inspect(name: string): Promise<WorkspaceInfo> {
    return this.infoOf(this.required(name));
  }

  async list(): Promise<WorkspaceInfo[]> {
    return Promise.all(this.store.all().map((r) => this.infoOf(r)));
  }

  /** The lock a sync-receive holds, the sync's scan and read, what a held sync wrote (syncAccess.ts). */
  holdForSync(name: string, released: Promise<void>): Promise<SyncTarget> {
    return this.sync.hold(name, released);
  }

  syncScan(name: string, entries: readonly SyncScanEntry[]): Promise<SyncScanChange[]> {
    return this.sync.scan(name, entries);
  }

  syncRead(name: string, path: string): Promise<SyncReadResult> {
    return this.sync.read(name, path);
  }

  syncReceived(name: string, paths: readonly string[]): Promise<void> {
    return this.sync.received(name, paths);
  }

  /**
   * On daemon start: find the containers of records whose create was cut short before the id
   * was saved, and say in the log what is missing or orphaned. Nothing is removed.
   */
  reconcile(): Promise<void> {
    return reconcileAll({
      store: this.store,
      providers: this.opts.providers,
      home: this.opts.home,
      logger: this.opts.logger,
      exclusive: (name, fn) => this.exclusive(name, fn),
      restart: (rec, provider, ws) => bringUp(this.bringUpDeps(), provider, rec, ws, () => undefined, false),
    });
  }

  private async infoOf(rec: WorkspaceRecord, signal?: AbortSignal): Promise<WorkspaceInfo> {
    const view = await providerView(this.opts.providers, rec, { signal });
    const info = workspaceInfo(rec, view, this.creating.has(rec.spec.name));
    // A provider may publish SSH elsewhere than recorded: QEMU moves it off a port taken since,
    // and a container made before the agent chose the port got it from the engine.
    if (info.ssh && info.ssh.port !== rec.sshPort && !this.creating.has(rec.spec.name)) {
      const fresh = this.store.get(rec.spec.name);
      if (fresh) this.store.put({ ...fresh, sshPort: info.ssh.port });
    }
    return info;
  }

  private required(name: string): WorkspaceRecord {
    const rec = this.store.get(name);
    if (!rec) throw notFound(name);
    return rec;
  }

  private forget(name: string): void {
    forgetWorkspace(this.teardownDeps(), name);
  }

  private teardownDeps(signal?: AbortSignal): TeardownDeps {
    const { home, providers, logger } = this.opts;
    return { home, providers, logger, store: this.store, signal };
  }
}
