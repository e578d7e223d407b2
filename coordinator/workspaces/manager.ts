/**
 * The coordinator's workspaces: records in state/workspaces.json, the lifecycle asked of each
 * node's agent, host keys pinned in known_hosts and Host blocks in ssh_config. Each request is an
 * operation of its own (up.ts, list.ts, status.ts, startStop.ts, remove.ts, wake.ts) given the
 * WorkspaceOps; this file holds what they share (lookup, locking, state cache, change events).
 */
import type { Duplex } from 'node:stream';
import type { CancellationToken } from 'vscode-jsonrpc';
import { InspectWorkspace, type WorkspaceInfo } from '../../agent/protocol';
import { KeyedMutex } from '../../common/async/keyedMutex';
import { toVendettaError, type VendettaError } from '../errors';
import { proxyCommandArgv, type HomePaths } from '../home';
import type { Logger } from '../log';
import type { AgentClient, Disposable } from '../nodes/agentClient';
import type { ProgressReporter } from '../daemon/handlerTable';
import type {
  ReadWorkspaceFileParams,
  ReadWorkspaceFileResult,
  RemoveWorkspaceParams,
  ResolveConflictParams,
  ResolveConflictResult,
  WorkspaceRef,
  WorkspaceStartResult,
  WorkspaceStatus,
  WorkspaceSummary,
  WorkspaceUpParams,
  WorkspaceUpResult,
} from '../protocol';
import { KnownHosts } from '../ssh/knownHosts';
import type { HostBlock } from '../sshConfig/blocks';
import { SshConfigFile } from '../sshConfig/sshConfigFile';
import { SyncStateStore } from '../sync/syncState';
import { agentErrorName, checkWorkspaceInfo } from './agentReplies';
import { WorkspaceStore, workspacesFile, type WorkspaceRecord } from './store';
import { readSyncedFile, resolveConflict } from './syncConflicts';
import type { PortForwarder, WorkspaceOps } from './operations';
import { runUp } from './up';
import { workspaceKeyPath } from './workspaceKey';
import { KnownStates, type KnownState } from './knownStates';
import { resolveWorkspace } from './resolve';
import { gone, notConnectable, notifyAttached, wakeForConnect } from './wake';
import { AgentChanges } from './agentChanges';
import { listWorkspaces } from './list';
import { removeWorkspace } from './remove';
import { startWorkspace, stopWorkspace } from './startStop';
import { workspaceStatus } from './status';

/** Where the manager finds a node's agent (the NodeManager in the daemon, a fake in tests). */
export interface NodeSource {
  agentClient(node: string): AgentClient;
  /** The node's default idle timeout (nodes.yaml `idleTimeout`), if it has one. */
  idleTimeoutMs?(node: string): number | undefined;
}

export interface WorkspaceManagerOptions {
  paths: HomePaths;
  log: Logger;
  nodes: NodeSource;
  /** ProxyCommand argv before %h (default: proxyCommandArgv: this runtime, dist/ssh-proxy.js --home HOME). */
  proxyCommand?: string[];
  /** Per node, for list (default 10 s). */
  listTimeoutMs?: number;
}

const key = (node: string, name: string) => `${node}/${name}`;

export class WorkspaceManager {
  private readonly store: WorkspaceStore;
  private readonly sshConfig: SshConfigFile;
  private readonly knownHosts: KnownHosts;
  private readonly syncState: SyncStateStore;
  private readonly proxyCommand: string[];
  /** What the operations (`up`, sync conflicts) are given: the stores and this bookkeeping. */
  private readonly ops: WorkspaceOps;
  private readonly known = new KnownStates();
  private readonly locks = new KeyedMutex();
  /** What each held workspace is held by, for "waiting for …" messages. */
  private readonly holders = new Map<string, string>();
  private readonly listeners = new Set<(all: WorkspaceSummary[]) => void>();
  private readonly removeListeners = new Set<(record: WorkspaceRecord) => void>();
  private readonly changes = new AgentChanges((node, name) => this.agentChanged(node, name));

  constructor(private readonly opts: WorkspaceManagerOptions) {
    this.store = new WorkspaceStore(workspacesFile(opts.paths));
    this.sshConfig = new SshConfigFile(opts.paths.sshConfig);
    this.knownHosts = new KnownHosts(opts.paths.knownHosts);
    this.syncState = SyncStateStore.forHome(opts.paths);
    // The home is named: ssh (or VS Code) may run the proxy without this VENDETTA_HOME set.
    this.proxyCommand = opts.proxyCommand ?? proxyCommandArgv(opts.paths.root);
    this.ops = {
      paths: opts.paths,
      log: opts.log,
      identityFile: this.identityFile,
      store: this.store,
      sshConfig: this.sshConfig,
      knownHosts: this.knownHosts,
      syncState: this.syncState,
      client: (node) => this.client(node),
      resolve: (ref) => this.resolve(ref),
      busy: (node, name) => this.busy(node, name),
      exclusive: (node, name, fn, what) => this.exclusive(node, name, fn, what),
      hostBlock: (r) => this.hostBlock(r),
      noteInfo: (r, info, error) => this.noteInfo(r, info, error),
      forget: (r) => this.forget(r),
      summary: (r) => this.summary(r),
      emitChange: () => this.emitChange(),
      inspect: (r, token) => this.inspect(r, token),
      openSsh: (r) => this.openSsh(r),
      forgetLocally: (r) => this.forgetLocally(r),
      nodeIdleTimeoutMs: (node) => opts.nodes.idleTimeoutMs?.(node),
    };
  }

  /** The workspaces recorded here, on every node. */
  records(): WorkspaceRecord[] {
    return this.store.list();
  }

  /** The record of one workspace, or undefined when none is kept. */
  record(name: string, node: string): WorkspaceRecord | undefined {
    return this.store.get(name, node);
  }

  /** Whether ssh_config has the block of this alias, and known_hosts its pinned key. */
  localTraces(alias: string): { sshConfigBlock: boolean; knownHostsLine: boolean } {
    return {
      sshConfigBlock: this.sshConfig.has(alias),
      knownHostsLine: this.knownHosts.lookup(alias, 22) !== undefined,
    };
  }

  /**
   * Points every workspace's ssh_config block at this coordinator's ProxyCommand. An update of the
   * extension or the CLI moves the bundled `dist/vendetta.js`; blocks written by the old one would
   * name a file that is gone, and ssh (or Remote-SSH) would fail before reaching the workspace.
   */
  refreshSshConfig(): number {
    return this.sshConfig.refresh(this.store.list().map((r) => this.hostBlock(r)));
  }

  /** The workspace's ssh_config block. */
  hostBlock(r: WorkspaceRecord): HostBlock {
    return {
      alias: r.sshHost,
      user: r.user,
      identityFile: this.identityFile,
      knownHostsFile: this.paths.knownHosts,
      proxyCommand: this.proxyCommand,
      forwardAgent: r.forwardAgent === true,
    };
  }

  get paths(): HomePaths {
    return this.opts.paths;
  }

  get log(): Logger {
    return this.opts.log;
  }

  get identityFile(): string {
    return workspaceKeyPath(this.opts.paths);
  }

  client(node: string): AgentClient {
    const client = this.opts.nodes.agentClient(node);
    this.changes.watch(node, client);
    return client;
  }

  /** A node's agent changed a workspace on its own (an idle stop): ask again, tell every client. */
  private agentChanged(node: string, name: string): void {
    const record = this.store.get(name, node);
    if (!record) return;
    this.inspect(record).then(
      () => this.emitChange(),
      (err: unknown) =>
        this.opts.log.debug('could not ask about a workspace its node changed', { workspace: name, node, err }),
    );
  }

  onDidChange(listener: (all: WorkspaceSummary[]) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Called after a workspace was removed (or forgotten): what pointed at it ends. */
  onDidRemove(listener: (record: WorkspaceRecord) => void): Disposable {
    this.removeListeners.add(listener);
    return { dispose: () => this.removeListeners.delete(listener) };
  }

  /** What holds this workspace now (`up`, `rm`…), or undefined when nothing does. */
  busy(node: string, name: string): string | undefined {
    return this.holders.get(key(node, name));
  }

  /** Runs `fn` alone for this workspace: two `up`s (or an up and an rm) never interleave. */
  exclusive<T>(node: string, name: string, fn: () => Promise<T>, what = 'request'): Promise<T> {
    const k = key(node, name);
    return this.locks.run(k, async () => {
      this.holders.set(k, what);
      try {
        return await fn();
      } finally {
        this.holders.delete(k);
      }
    });
  }

  /** `workspaces/up`; `forwardPorts` serves `--forward` (the services manager's forwards). */
  up(
    params: WorkspaceUpParams,
    progress: ProgressReporter,
    token?: CancellationToken,
    forwardPorts?: PortForwarder,
  ): Promise<WorkspaceUpResult> {
    return runUp(this.ops, forwardPorts ? { forwardPorts } : {}, params, progress, token);
  }

  resolveConflict(params: ResolveConflictParams, token?: CancellationToken): Promise<ResolveConflictResult> {
    return resolveConflict(this.ops, params, token);
  }

  readSyncedFile(params: ReadWorkspaceFileParams, token?: CancellationToken): Promise<ReadWorkspaceFileResult> {
    return readSyncedFile(this.ops, params, token);
  }

  /** The record a name (and maybe a node) points at; ambiguous or unknown names are errors. */
  resolve(ref: WorkspaceRef): WorkspaceRecord {
    return resolveWorkspace(this.store, ref);
  }

  /** Remembers what the node said, for the change events and the tunnel's endpoint. */
  noteInfo(record: WorkspaceRecord, info: WorkspaceInfo | undefined, error?: VendettaError): KnownState {
    return this.known.note(record, info, error);
  }

  forget(record: WorkspaceRecord): void {
    this.known.forget(record);
  }

  summary(record: WorkspaceRecord, k?: KnownState): WorkspaceSummary {
    return this.known.summary(record, k);
  }

  /** Summaries from what is known, without asking any node (for change events). */
  cached(): WorkspaceSummary[] {
    return this.store.list().map((r) => this.summary(r));
  }

  emitChange(): void {
    const all = this.cached();
    for (const l of [...this.listeners]) {
      try {
        l(all);
      } catch (err) {
        this.opts.log.error('a workspace listener threw', { err });
      }
    }
  }

  /** Asks each node that has workspaces, in parallel, each within a timeout. */
  list(): Promise<WorkspaceSummary[]> {
    return listWorkspaces(this.ops, this.opts.listTimeoutMs ?? 10_000);
  }

  /** What the node says about one workspace now; `missing` when it no longer has it. */
  async inspect(record: WorkspaceRecord, token?: CancellationToken): Promise<WorkspaceInfo | undefined> {
    try {
      const info = checkWorkspaceInfo(
        await this.client(record.node).request(InspectWorkspace, { name: record.name }, token),
        record.node,
      );
      this.noteInfo(record, info);
      return info;
    } catch (err) {
      if (agentErrorName(err) === 'WORKSPACE_NOT_FOUND') {
        this.noteInfo(record, undefined);
        return undefined;
      }
      throw err;
    }
  }

  status(ref: WorkspaceRef): Promise<WorkspaceStatus> {
    return workspaceStatus(this.ops, ref);
  }

  /** Starts the workspace, then its services, and returns once they are behind their checks (as `up` does). */
  start(ref: WorkspaceRef, token?: CancellationToken): Promise<WorkspaceStartResult> {
    return startWorkspace(this.ops, ref, token);
  }

  stop(ref: WorkspaceRef, token?: CancellationToken): Promise<WorkspaceSummary> {
    return stopWorkspace(this.ops, ref, token);
  }

  /** Removes the workspace on its node, then everything that pointed at it here. */
  remove(p: RemoveWorkspaceParams, token?: CancellationToken): Promise<{ name: string; node: string }> {
    return removeWorkspace(this.ops, p, token);
  }

  /** Drops the ssh_config block, the pinned key, the sync record and the record itself. */
  async forgetLocally(record: WorkspaceRecord): Promise<void> {
    this.sshConfig.remove(record.sshHost);
    await this.knownHosts.remove(record.sshHost, 22);
    this.syncState.remove(record.node, record.name);
    this.store.remove(record.name, record.node);
    this.forget(record);
    for (const l of [...this.removeListeners]) {
      try {
        l(record);
      } catch (err) {
        this.opts.log.error('a workspace removal listener threw', { err });
      }
    }
  }

  /** For a connection: starts the workspace when it is stopped; how long that took, or undefined when it ran. */
  wake(record: WorkspaceRecord, token?: CancellationToken): Promise<number | undefined> {
    return wakeForConnect(this.ops, record, token);
  }

  /** The workspace's sshd as its node sees it: remembered from the last answer, else asked. */
  async sshEndpoint(record: WorkspaceRecord, fresh = false): Promise<{ host: string; port: number }> {
    const k = this.known.get(record);
    if (!fresh && k?.state === 'running' && k.ssh) return k.ssh;
    const info = await this.inspect(record);
    if (!info) throw gone(record);
    if (info.state !== 'running' || !info.ssh)
      throw notConnectable(
        record,
        info.state === 'running' ? 'running without an SSH server' : info.state,
        info.error,
      )!;
    return { host: info.ssh.host, port: info.ssh.port };
  }

  /** A stream to the workspace's sshd over the node's link; a stale remembered port is retried fresh once. */
  async openSsh(record: WorkspaceRecord): Promise<Duplex> {
    const ep = await this.sshEndpoint(record);
    try {
      return await this.client(record.node).openTcp(ep.host, ep.port);
    } catch (err) {
      if (toVendettaError(err).code !== 'TUNNEL_FAILED') throw err;
      const again = await this.sshEndpoint(record, true);
      return this.client(record.node).openTcp(again.host, again.port);
    }
  }

  /** An SSH client connected: the node runs the workspace's postAttach hook in the background. */
  attached(record: WorkspaceRecord): void {
    notifyAttached(this.ops, record);
  }
}
