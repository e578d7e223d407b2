/**
 * One AgentClient per registered node, kept in step with the registry. `list` answers from
 * what is cached (no network); `status` asks every node in parallel, each with a timeout. The
 * clients reconnect on their own (backoff with jitter); the manager connects each node once when
 * it appears and refreshes what it knows whenever a link comes up.
 */
import type { CancellationToken } from 'vscode-jsonrpc';
import { GetNodeInfo, notRunnableReason, Ping, RUNNABLE_PROVIDERS } from '../../agent/protocol';
import { withTimeout } from '../../common/async/timeout';
import type { NodeEntry } from '../config/nodes';
import { toVendettaError, VendettaError } from '../errors';
import type { HomePaths } from '../home';
import type { Logger } from '../log';
import type {
  AddNodeParams,
  AddNodeResult,
  NodeStatus,
  PrepareNodeResult,
  PrepareProvider,
  NodeSummary,
  TestNodeResult,
  TestStep,
} from '../protocol';
import type { AgentClient, Disposable } from './agentClient';
import { checkNodeInfo, checkPing } from './agentReplies';
import { performAddNode, type ProgressFn } from './addNode';
import { diagnoseLocal } from './localDiagnosis';
import { LocalAgentClient } from './localAgentClient';
import {
  resolveEntry,
  runtimeOf,
  sameLink,
  toStatus,
  toSummary,
  type NodeFacts,
  type ResolvedNode,
} from './nodeSummary';
import { LOCAL_NODE_NAME, type NodeRegistry } from './registry';
import { tryParseDuration } from '../config/units';
import type { SshLayer, SshNodeTarget } from './sshLayer';

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
    const t0 = process.hrtime.bigint();
    checkPing(await m.client.request(Ping), name);
    const latencyMs = Number(process.hrtime.bigint() - t0) / 1e6;
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

  async add(
    params: AddNodeParams & { port: number; user: string },
    progress: ProgressFn,
    token?: CancellationToken,
  ): Promise<AddNodeResult> {
    const { name } = params;
    if (name === LOCAL_NODE_NAME) {
      throw new VendettaError('INVALID_NAME', 'The node "local" is built in and cannot be added', {
        hint: 'Choose another name for the node.',
      });
    }
    this.opts.registry.assertWritable();
    if (this.opts.registry.get(name) && !params.replaceHostKey) {
      throw new VendettaError('NODE_EXISTS', `A node named ${name} already exists`, {
        node: name,
        hint: `Remove it first (\`vendetta node remove ${name}\`), or re-add it with --replace-host-key to re-pin its host key.`,
      });
    }
    if (this.adding.has(name)) {
      throw new VendettaError('NODE_EXISTS', `The node ${name} is being added right now`, {
        node: name,
        hint: 'Wait for the other `node add` to finish.',
      });
    }
    this.adding.add(name);
    try {
      const node = resolveEntry({
        name,
        host: params.host,
        port: params.port,
        user: params.user,
        transport: 'ssh',
        ...(params.identity ? { identity: params.identity } : {}),
        ...(params.labels ? { labels: params.labels } : {}),
      });
      const install = params.install !== false;
      // Re-adding (a replaced host key) keeps what the node was given before.
      const previousRuntime = this.opts.registry.get(name)?.runtime;
      const outcome = await performAddNode(
        {
          node: { ...node, ...(previousRuntime ? { runtime: previousRuntime } : {}) },
          hostKeyFingerprint: params.hostKeyFingerprint,
          acceptNewHostKey: params.acceptNewHostKey === true,
          replaceHostKey: params.replaceHostKey === true,
          install,
          ...(params.installRuntime ? { runtime: params.installRuntime } : {}),
        },
        { ssh: this.opts.ssh, log: this.opts.log, progress, token, save: (saved, client) => this.save(saved, client) },
      );
      const m = this.get(name);
      if (outcome.info) m.facts.info = outcome.info;
      this.opts.log.info('node added', { node: name, host: node.host, port: node.port, installed: install });
      const result: AddNodeResult = {
        node: toStatus(toSummary(m.node, m.client, m.facts), outcome.info, runtimeOf(m.node, m.client, outcome.info)),
        hostKeyFingerprint: outcome.node.hostKey ?? outcome.hostKey.fingerprint,
      };
      if (outcome.runtimeProvided) result.runtimeInstalled = { ...outcome.runtimeProvided };
      const id = outcome.identity;
      if (id.generated && id.privateKeyPath && id.publicKey) {
        const port = node.port === 22 ? '' : ` -p ${node.port}`;
        result.generatedPublicKey = {
          path: `${id.privateKeyPath}.pub`,
          publicKey: id.publicKey,
          installHint: `ssh-copy-id -i ${id.privateKeyPath}.pub${port} ${node.user}@${node.host}`,
        };
      }
      return result;
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
    if (m.node.transport !== 'ssh') {
      throw new VendettaError(
        'INVALID_PARAMS',
        `node prepare works on nodes reached over SSH; ${name} is this machine`,
        { node: name, hint: 'Install the provider on this machine yourself (e.g. `sudo apt-get install docker.io`).' },
      );
    }
    if (this.adding.has(name))
      throw new VendettaError('NODE_EXISTS', `The node ${name} is being added or prepared right now`, {
        node: name,
        hint: 'Wait for the other command to finish.',
      });
    const announce = (i: number, total: number, title: string, command: string, warning?: string) =>
      progress(i, total, `${title}${warning ? ` (note: ${warning})` : ''}\n  $ ${command}`);
    if (dryRun) {
      const plan = await this.opts.ssh.prepare(target(m.node), provider, { dryRun: true, announce });
      return { name, provider, dryRun: true, ...plan };
    }
    // Installing what the agent cannot use yet would change a node for nothing; the plan may still be shown.
    if (!RUNNABLE_PROVIDERS.includes(provider)) {
      throw new VendettaError(
        'INVALID_PARAMS',
        `Not preparing ${name} for ${provider}: ${notRunnableReason(provider)}`,
        {
          node: name,
          hint: `\`vendetta node prepare ${name} --provider ${provider} --dry-run\` shows the commands it will run; \`--provider docker\` works now.`,
        },
      );
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
    if (name === LOCAL_NODE_NAME) {
      throw new VendettaError('INVALID_NAME', 'The node "local" is built in and cannot be removed', {
        hint: 'Remove only nodes you added.',
      });
    }
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
        const e = toVendettaError(err);
        throw new VendettaError(e.code, `Could not purge the agent on ${name}: ${e.message}`, {
          node: name,
          cause: e,
          hint: `${e.hint ?? ''} To remove the node without cleaning it up, run \`vendetta node remove ${name}\` without --purge.`.trim(),
        });
      });
    }
    this.opts.registry.remove(name);
    if (!this.opts.registry.list().some((e) => e.host === m.node.host && (e.port ?? 22) === m.node.port)) {
      await this.opts.ssh
        .unpin(m.node.host, m.node.port)
        .catch((err: unknown) => this.opts.log.warn('could not unpin a removed node', { node: name, err }));
    }
    this.opts.log.info('node removed', { node: name, purged: purge });
    return { name, purged: purge };
  }

  /** The agent link of a node, for the workspace manager; NODE_NOT_FOUND for an unknown name. */
  /** nodes.yaml's `idleTimeout` of the node, in milliseconds (the schema checked its form). */
  idleTimeoutMs(node: string): number | undefined {
    const text = this.opts.registry.get(node)?.idleTimeout;
    return text === undefined ? undefined : tryParseDuration(text);
  }

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

  /** node/info and a ping after a link comes up, so `list` has providers and latency. */
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

  private async probeOnce(m: Managed): Promise<NodeStatus> {
    const timeoutMs = this.opts.statusTimeoutMs ?? 10_000;
    const unreachable = () =>
      new VendettaError('NODE_UNREACHABLE', `${m.node.name} did not answer within ${timeoutMs / 1000} s`, {
        node: m.node.name,
        hint: `Run \`vendetta node test ${m.node.name}\` to see which step fails.`,
      });
    try {
      const info = await withTimeout(
        (async () => {
          await m.client.connect();
          // Both at once: one round trip of waiting, not two.
          const timedPing = async () => {
            const t0 = process.hrtime.bigint();
            checkPing(await m.client.request(Ping), m.node.name);
            return Number(process.hrtime.bigint() - t0) / 1e6;
          };
          const [latencyMs, info] = await Promise.all([timedPing(), m.client.request(GetNodeInfo)]);
          m.facts.latencyMs = latencyMs;
          return checkNodeInfo(info, m.node.name);
        })(),
        timeoutMs,
        unreachable,
      );
      m.facts.info = info;
      m.facts.error = undefined;
      return toStatus(toSummary(m.node, m.client, m.facts), info, runtimeOf(m.node, m.client, info));
    } catch (err) {
      const e = toVendettaError(err);
      m.facts.error = e;
      const summary = toSummary(m.node, m.client, m.facts);
      // The link may still look up (keep-alive has not noticed yet); this request says otherwise.
      summary.status = 'offline';
      summary.latencyMs = null;
      summary.error = { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
      return toStatus(summary, undefined);
    }
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

/** What counts as a change worth a notification: not the ever-moving lastSeen and latency. */
function changeKey(nodes: NodeSummary[]): string {
  return JSON.stringify(nodes.map(({ lastSeen: _l, latencyMs: _ms, ...rest }) => rest));
}

function target(node: ResolvedNode): SshNodeTarget {
  return {
    name: node.name,
    host: node.host,
    port: node.port,
    user: node.user,
    ...(node.identity ? { identity: node.identity } : {}),
  };
}

function toEntry(node: ResolvedNode): NodeEntry {
  const e: NodeEntry = { name: node.name, host: node.host, port: node.port, user: node.user };
  if (node.identity) e.identity = node.identity;
  if (node.hostKey) e.hostKey = node.hostKey;
  if (node.runtime) e.runtime = node.runtime;
  if (node.labels && Object.keys(node.labels).length > 0) e.labels = { ...node.labels };
  return e;
}

/**
 * A node passes when every required step passed and it can host workspaces with at least one
 * provider: a provider it lacks is reported, not a failure.
 */
export function testPassed(steps: readonly TestStep[]): boolean {
  const providers = steps.filter((s) => s.optional);
  return steps.every((s) => s.ok || s.optional) && (providers.length === 0 || providers.some((s) => s.ok));
}
