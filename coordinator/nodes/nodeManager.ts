/**
 * One AgentClient per registered node, kept in step with the registry. `list` answers from
 * what is cached (no network); `status` asks every node in parallel, each with a timeout. The
 * clients reconnect on their own (backoff with jitter); the manager connects each node once when
 * it appears and refreshes what it knows whenever a link comes up.
 */
import type { CancellationToken } from 'vscode-jsonrpc';
import { tryParseDuration } from '../config/units';
import { toVendettaError, VendettaError } from '../errors';
import type { HomePaths } from '../home';
import type { Logger } from '../log';
import type {
  AddNodeResult,
  NodeStatus,
  PrepareNodeResult,
  PrepareProvider,
  NodeSummary,
  TestNodeResult,
} from '../protocol';
import type { AgentClient, Disposable } from './agentClient';
import { performAddNode, type ProgressFn } from './addNode';
import { diagnoseLocal } from './localDiagnosis';
import { LocalAgentClient } from './localAgentClient';
import {
  addNodeInput,
  addNodeResult,
  assertAddable,
  assertPreparable,
  assertRemovableName,
  hostStillUsed,
  purgeFailed,
  sshTarget as target,
  toEntry,
  type AddRequest,
} from './nodeEdits';
import { changeKey, probeNode, testPassed, timedPing } from './nodeProbe';
import { resolveEntry, sameLink, toSummary, type NodeFacts, type ResolvedNode } from './nodeSummary';
import type { NodeRegistry } from './registry';
import type { SshLayer } from './sshLayer';

export interface NodeManagerOptions {
  paths: HomePaths;
  log: Logger;
  registry: NodeRegistry;
  ssh: SshLayer;
  agentBundle: string;
  /** Builds the client of a `local`-transport node (tests substitute one). */
  createLocalClient?: (node: ResolvedNode) => AgentClient;
  /** Per node, for `status`. */
  statusTimeoutMs?: number;
  /** Connect every SSH node when it appears (at start, on a hand edit). */
  eagerConnect?: boolean;
}

interface Managed {
  node: ResolvedNode;
  client: AgentClient;
  sub: Disposable;
  facts: NodeFacts;
  /** The probe in flight: a status asked while the link-up refresh runs shares its answer. */
  probing?: Promise<NodeStatus>;
}

export class NodeManager {
  private readonly nodes = new Map<string, Managed>();
  private readonly adding = new Set<string>();
  private readonly listeners = new Set<(nodes: NodeSummary[]) => void>();
  private unsubscribe: (() => void) | undefined;
  private emitTimer: NodeJS.Timeout | undefined;
  private lastEmitted = '';
  private closing = false;

  constructor(private readonly opts: NodeManagerOptions) {}

  start(): void {
    this.unsubscribe = this.opts.registry.onChange(() => this.sync());
    this.sync();
    this.lastEmitted = changeKey(this.list());
  }

  /** Called (debounced) with the full list whenever any node's summary changes. */
  onDidChange(listener: (nodes: NodeSummary[]) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  get size(): number {
    return this.nodes.size;
  }

  get connectedCount(): number {
    return [...this.nodes.values()].filter((m) => m.client.state === 'online').length;
  }

  list(): NodeSummary[] {
    return this.ordered().map((m) => toSummary(m.node, m.client, m.facts));
  }

  async status(name?: string): Promise<NodeStatus[]> {
    const targets = name === undefined ? this.ordered() : [this.get(name)];
    return Promise.all(targets.map((m) => this.probe(m)));
  }

  async ping(name: string): Promise<{ latencyMs: number }> {
    const m = this.get(name);
    await m.client.connect();
    const latencyMs = await timedPing(m.client, name);
    m.facts.latencyMs = latencyMs;
    return { latencyMs };
  }

  async test(name: string): Promise<TestNodeResult> {
    const m = this.get(name);
    const steps =
      m.node.transport === 'local'
        ? await diagnoseLocal(m.client, this.opts.agentBundle)
        : await this.opts.ssh.diagnose(target(m.node));
    return { name, ok: testPassed(steps), steps };
  }

  async add(params: AddRequest, progress: ProgressFn, token?: CancellationToken): Promise<AddNodeResult> {
    const { name } = params;
    assertAddable(params, this.opts.registry, this.adding);
    this.adding.add(name);
    try {
      const input = addNodeInput(params, this.opts.registry);
      const outcome = await performAddNode(input, {
        ssh: this.opts.ssh,
        log: this.opts.log,
        progress,
        token,
        save: (saved, client) => this.save(saved, client),
      });
      const m = this.get(name);
      if (outcome.info) m.facts.info = outcome.info;
      const { host, port } = input.node;
      this.opts.log.info('node added', { node: name, host, port, installed: input.install });
      return addNodeResult(m, outcome);
    } finally {
      this.adding.delete(name);
    }
  }

  /**
   * Installs a provider on an SSH node (or plans it: dryRun), then runs `node test`. The node's
   * link is closed meanwhile and made afresh after, so the agent starts in a new login that has any
   * group the plan granted.
   */
  async prepare(
    name: string,
    provider: PrepareProvider,
    dryRun: boolean,
    progress: ProgressFn,
  ): Promise<PrepareNodeResult> {
    const m = this.get(name);
    assertPreparable(m.node, provider, dryRun, this.adding);
    const announce = (i: number, total: number, title: string, command: string, warning?: string) =>
      progress(i, total, `${title}${warning ? ` (note: ${warning})` : ''}\n  $ ${command}`);
    if (dryRun) {
      const plan = await this.opts.ssh.prepare(target(m.node), provider, { dryRun: true, announce });
      return { name, provider, dryRun: true, ...plan };
    }
    this.adding.add(name);
    try {
      this.nodes.delete(name);
      await this.drop(m);
      const done = await this.opts.ssh.prepare(target(m.node), provider, { dryRun: false, announce });
      const steps = await this.opts.ssh.diagnose(target(m.node));
      this.opts.log.info('node prepared', { node: name, provider });
      return { name, provider, dryRun: false, ...done, test: { name, ok: testPassed(steps), steps } };
    } finally {
      this.adding.delete(name);
      this.sync();
    }
  }

  /** Throws unless `name` is a node that `remove` may remove (an added node, a writable registry). */
  assertRemovable(name: string): void {
    assertRemovableName(name);
    this.get(name);
    this.opts.registry.assertWritable();
  }

  /** Forgets a node; with `purge`, first `beforePurge` (its workspaces go), then its agent. */
  async remove(
    name: string,
    purge: boolean,
    beforePurge?: () => Promise<void>,
  ): Promise<{ name: string; purged: boolean }> {
    this.assertRemovable(name);
    const m = this.get(name);
    if (purge) {
      await beforePurge?.();
      await m.client.close().catch(() => undefined);
      await this.opts.ssh.purge(target(m.node)).catch((err: unknown) => {
        throw purgeFailed(name, err);
      });
    }
    this.opts.registry.remove(name);
    if (!hostStillUsed(this.opts.registry, m.node)) {
      await this.opts.ssh
        .unpin(m.node.host, m.node.port)
        .catch((err: unknown) => this.opts.log.warn('could not unpin a removed node', { node: name, err }));
    }
    this.opts.log.info('node removed', { node: name, purged: purge });
    return { name, purged: purge };
  }

  /** nodes.yaml's `idleTimeout` of the node, in milliseconds (the schema checked its form). */
  idleTimeoutMs(node: string): number | undefined {
    const text = this.opts.registry.get(node)?.idleTimeout;
    return text === undefined ? undefined : tryParseDuration(text);
  }

  /** The agent link of a node, for the workspace manager; NODE_NOT_FOUND for an unknown name. */
  agentClient(name: string): AgentClient {
    return this.get(name).client;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.unsubscribe?.();
    clearTimeout(this.emitTimer);
    await Promise.all([...this.nodes.values()].map((m) => this.drop(m)));
    this.nodes.clear();
  }

  private get(name: string): Managed {
    const m = this.nodes.get(name);
    if (!m) {
      throw new VendettaError('NODE_NOT_FOUND', `There is no node named ${name}`, {
        node: name,
        hint: 'See the nodes with `vendetta node list`; add one with `vendetta node add`.',
      });
    }
    return m;
  }

  private ordered(): Managed[] {
    return this.opts.registry
      .list()
      .map((e) => this.nodes.get(e.name))
      .filter((m): m is Managed => m !== undefined);
  }

  /** Brings the clients in line with the registry. */
  private sync(): void {
    if (this.closing) return;
    const wanted = new Map(this.opts.registry.list().map((e) => [e.name, resolveEntry(e)]));
    for (const [name, m] of this.nodes) {
      const w = wanted.get(name);
      if (!w || !sameLink(w, m.node)) {
        if (this.adding.has(name)) continue;
        this.nodes.delete(name);
        void this.drop(m);
      }
    }
    for (const [name, node] of wanted) {
      const m = this.nodes.get(name);
      if (m) {
        m.node = node;
        continue;
      }
      if (this.adding.has(name)) continue;
      const added = this.manage(node, this.makeClient(node));
      // SSH links are kept up (keep-alives notice a dead node). The local agent starts on the
      // first request instead: a daemon that outlives us should not start just because a
      // client listed nodes.
      if (this.opts.eagerConnect !== false && node.transport !== 'local') this.connectInBackground(added);
    }
    this.scheduleEmit();
  }

  /** The last step of `add`: adopt its client, then write the registry (whose listener sees it adopted). */
  private save(node: ResolvedNode, client: AgentClient | undefined): void {
    const previous = this.nodes.get(node.name);
    const m = this.manage(node, client ?? this.makeClient(node));
    try {
      this.opts.registry.upsert(toEntry(node));
    } catch (err) {
      this.nodes.delete(node.name);
      m.sub.dispose();
      if (previous) this.nodes.set(node.name, previous);
      throw err;
    }
    if (previous && previous.client !== m.client) void this.drop(previous);
  }

  private makeClient(node: ResolvedNode): AgentClient {
    if (node.transport === 'local') {
      return (
        this.opts.createLocalClient?.(node) ??
        new LocalAgentClient({
          nodeName: node.name,
          agentHome: this.opts.paths.localAgentHome,
          agentBundle: this.opts.agentBundle,
          log: this.opts.log,
        })
      );
    }
    // A Node.js vendetta uploaded before may be uploaded again (the user agreed once); nothing else is installed unasked.
    return this.opts.ssh.createAgentClient(target(node), {
      install: true,
      ...(node.runtime === 'upload' ? { runtime: 'upload' as const } : {}),
    });
  }

  private manage(node: ResolvedNode, client: AgentClient): Managed {
    const m: Managed = { node, client, facts: { latencyMs: null }, sub: { dispose: () => undefined } };
    m.sub = client.onStateChange((state, error) => {
      if (this.nodes.get(node.name) !== m) return;
      this.opts.log.info(
        `node ${node.name} is ${state}`,
        error ? { node: node.name, err: error } : { node: node.name },
      );
      if (state === 'online') {
        m.facts.error = undefined;
        void this.refresh(m);
      }
      this.scheduleEmit();
    });
    this.nodes.set(node.name, m);
    return m;
  }

  /** The first connect of a node that appeared; later ones are the client's own business. */
  private connectInBackground(m: Managed): void {
    m.client.connect().catch((err: unknown) => {
      m.facts.error = toVendettaError(err);
      this.scheduleEmit();
    });
  }

  /** node/inspect and a ping after a link comes up, so `list` has providers and latency. */
  private async refresh(m: Managed): Promise<void> {
    try {
      await this.probe(m);
    } catch (err) {
      this.opts.log.warn('refreshing node info failed', { node: m.node.name, err });
    }
    this.scheduleEmit();
  }

  private probe(m: Managed): Promise<NodeStatus> {
    m.probing ??= this.probeOnce(m).finally(() => {
      m.probing = undefined;
    });
    return m.probing;
  }

  private probeOnce(m: Managed): Promise<NodeStatus> {
    return probeNode(m.node, m.client, m.facts, this.opts.statusTimeoutMs ?? 10_000);
  }

  private async drop(m: Managed): Promise<void> {
    m.sub.dispose();
    await m.client
      .close()
      .catch((err: unknown) => this.opts.log.warn('closing a node link failed', { node: m.node.name, err }));
  }

  private scheduleEmit(): void {
    if (this.closing || this.emitTimer) return;
    this.emitTimer = setTimeout(() => {
      this.emitTimer = undefined;
      const nodes = this.list();
      const json = changeKey(nodes);
      if (json === this.lastEmitted) return;
      this.lastEmitted = json;
      for (const l of [...this.listeners]) l(nodes);
    }, 50);
    this.emitTimer.unref();
  }
}
