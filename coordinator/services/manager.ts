/**
 * The coordinator's side of services: it asks the workspace's node (the agent runs, checks and
 * restarts the services, and keeps their logs), relays the node's state changes to every client,
 * follows logs for one client, and forwards service ports to this machine.
 */
import {
  DetectPorts,
  ListServices,
  PortsDidChange as AgentPortsDidChange,
  ServiceLogs,
  ResolveNodePort,
  ServicesDidChange as AgentServicesDidChange,
  StartServices,
  StopServices,
  type AgentErrorData,
  type ServiceNameParams,
  type WorkspaceServicesStatus,
} from '../../agent/protocol';
import type { RequestType } from 'vscode-jsonrpc';
import type { ClientHandle } from '../daemon/handlerTable';
import { VendettaError } from '../errors';
import type { Logger } from '../log';
import type { AgentClient, Disposable } from '../nodes/agentClient';
import type {
  ForwardInfo,
  ForwardParams,
  LogsParams,
  PortInfo,
  ServiceLogLine,
  ServiceRef,
  WorkspaceRef,
  WorkspaceServices,
} from '../protocol';
import type { WorkspaceManager } from '../workspaces/manager';
import type { WorkspaceRecord } from '../workspaces/store';
import { agentErrorName } from '../workspaces/agentReplies';
import { checkDetectedPorts, checkLogLines, checkNodePort, checkServicesStatus } from './agentReplies';
import { portList } from './portList';
import { PortForwards } from './forwards';
import { KeptForwards } from './keptForwards';
import { LogFollows } from './logFollows';
import { parseSince } from './parse';

export class ServicesManager {
  readonly forwards: PortForwards;
  readonly follows: LogFollows;
  private readonly watched = new Map<string, { client: AgentClient; sub: Disposable }>();
  private readonly listeners = new Set<(w: WorkspaceServices) => void>();
  private readonly portListeners = new Set<(w: { name: string; node: string }) => void>();
  private readonly subs: Disposable[] = [];

  private readonly kept: KeptForwards;
  /** Settles once the kept forwards of an earlier run are listening again. */
  readonly restored: Promise<void>;

  constructor(
    private readonly workspaces: WorkspaceManager,
    private readonly log: Logger,
  ) {
    this.forwards = new PortForwards(log);
    this.kept = new KeptForwards(workspaces.paths, log);
    this.follows = new LogFollows(log);
    // Every node with a workspace is watched for service changes, also ones made later.
    this.subs.push(workspaces.onDidChange(() => this.watchKnownNodes()));
    this.subs.push(
      workspaces.onDidRemove((record) => {
        this.forwards.removeWorkspace(record.name, record.node);
        this.kept.remove(record.name, record.node);
        this.follows.endWorkspace(record.node, record.name);
      }),
    );
    this.watchKnownNodes();
    this.restored = this.restoreKept();
  }

  /**
   * The forwards an earlier coordinator kept, listening again on their ports without asking any
   * node (the node port is refreshed on the first connection it refuses). A local port taken
   * meanwhile falls back to another one, which `workspace forwards` then shows.
   */
  private async restoreKept(): Promise<void> {
    for (const k of this.kept.list()) {
      const record = this.workspaces.record(k.workspace, k.node);
      if (!record) {
        this.kept.remove(k.workspace, k.node, k.port);
        continue;
      }
      try {
        const info = await this.forwards
          .add(this.endpoint(record, k.port), k.nodePort, k.localPort)
          .catch((err: unknown) => {
            this.log.warn('a kept forward cannot have its port again; using another', { ...k, err });
            return this.forwards.add(this.endpoint(record, k.port), k.nodePort, undefined);
          });
        if (info.localPort !== k.localPort) this.kept.add(info);
      } catch (err) {
        this.log.warn('a kept forward could not be restored', { ...k, err });
      }
    }
  }

  /** Called with each service change on any watched node. */
  onDidChange(listener: (w: WorkspaceServices) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Called when the ports listening inside a workspace on a watched node changed. */
  onPortsDidChange(listener: (w: { name: string; node: string }) => void): Disposable {
    this.portListeners.add(listener);
    return { dispose: () => this.portListeners.delete(listener) };
  }

  watchKnownNodes(): void {
    for (const node of new Set(this.workspaces.records().map((r) => r.node))) this.watchNode(node);
  }

  async list(ref: WorkspaceRef): Promise<WorkspaceServices> {
    const record = this.workspaces.resolve(ref);
    return this.toServices(record.node, await this.ask(record, ListServices, { workspace: record.name }));
  }

  async start(ref: ServiceRef): Promise<WorkspaceServices> {
    const record = this.workspaces.resolve(ref);
    return this.toServices(record.node, await this.ask(record, StartServices, nameParams(record, ref.service)));
  }

  async stop(ref: ServiceRef): Promise<WorkspaceServices> {
    const record = this.workspaces.resolve(ref);
    return this.toServices(record.node, await this.ask(record, StopServices, nameParams(record, ref.service)));
  }

  /** The services' ports, the config's forwardPorts and the ports found listening inside, each once. */
  async ports(ref: WorkspaceRef): Promise<PortInfo[]> {
    const record = this.workspaces.resolve(ref);
    const ws = await this.list(ref);
    const found = checkDetectedPorts(
      await this.workspaces.client(record.node).request(DetectPorts, { workspace: record.name }),
      record.node,
    );
    return portList({
      services: ws.services,
      detected: found.running ? found.ports : undefined,
      config: record.ports,
      forwardOf: (port) => this.forwards.find(ws.node, ws.name, port),
    });
  }

  /** The lines asked for; with `follow`, later lines go to `client` as notifications. */
  async logs(p: LogsParams, client: ClientHandle): Promise<{ lines: ServiceLogLine[] }> {
    const record = this.workspaces.resolve(p);
    const params = {
      workspace: record.name,
      ...(p.service ? { service: p.service } : {}),
      ...(p.tail !== undefined ? { tail: p.tail } : {}),
      ...(p.since ? { since: parseSince(p.since) } : {}),
    };
    const agent = this.workspaces.client(record.node);
    if (!p.follow) return { lines: checkLogLines((await agent.request(ServiceLogs, params)).lines, record.node) };
    if (!p.followToken)
      throw new VendettaError('INVALID_PARAMS', 'services/readLogs: follow needs a followToken', {
        hint: 'Send a followToken; the lines come as services/didLog notifications carrying it.',
      });
    return { lines: await this.follows.start(agent, record.node, params, client, p.followToken) };
  }

  unfollow(followToken: string, client: ClientHandle): Promise<boolean> {
    return this.follows.stop(client.id, followToken);
  }

  async forward(p: ForwardParams, client?: ClientHandle): Promise<ForwardInfo> {
    const record = this.workspaces.resolve(p);
    const nodePort = await this.nodePortOf(record, p.port);
    const owner = p.untilDisconnect && client ? client.id : undefined;
    const info = await this.forwards.add(this.endpoint(record, p.port), nodePort, p.localPort, owner);
    if (info.kept) this.kept.add(info);
    if (owner !== undefined && client) {
      const sub = client.gone.onCancellationRequested(() => {
        sub.dispose();
        this.forwards.removeOwnedBy(owner);
      });
    }
    return info;
  }

  unforward(p: { workspace: string; node?: string; port: number }): boolean {
    this.kept.remove(p.workspace, p.node, p.port);
    return this.forwards.remove(p.workspace, p.node, p.port);
  }

  close(): void {
    for (const s of this.subs) s.dispose();
    for (const w of this.watched.values()) w.sub.dispose();
    this.watched.clear();
    this.forwards.close();
    this.follows.close();
  }

  /** `up --forward`: each configured port that a service publishes. */
  /** Forwards each port of the workspace to this machine: `up --forward`. */
  async forwardAll(record: WorkspaceRecord, ports: number[]): Promise<ForwardInfo[]> {
    const out: ForwardInfo[] = [];
    for (const port of ports) out.push(await this.forward({ name: record.name, node: record.node, port }));
    return out;
  }

  private endpoint(record: WorkspaceRecord, port: number) {
    // A port no service publishes is reached at the workspace's own address; the node says where each time.
    let host = '127.0.0.1';
    return {
      workspace: record.name,
      node: record.node,
      port,
      nodePortNow: async () => {
        const at = checkNodePort(
          await this.workspaces.client(record.node).request(ResolveNodePort, { workspace: record.name, port }),
          record.node,
        );
        host = at.host ?? '127.0.0.1';
        return at.nodePort;
      },
      open: (nodePort: number) => this.workspaces.client(record.node).openTcp(host, nodePort),
    };
  }

  private async nodePortOf(record: WorkspaceRecord, port: number): Promise<number> {
    const status = await this.ask(record, ListServices, { workspace: record.name });
    const svc = status.services.find((s) => s.port === port);
    // Not a service's: a port a dev server opened, or a forwardPorts entry; the node says whether it reaches it.
    if (!svc) return this.unpublishedPortOf(record, port, status);
    if (svc.nodePort === undefined) {
      throw new VendettaError(
        'WORKSPACE_STATE',
        `${svc.name}'s port ${port} is not published on ${record.node} (the service is ${svc.state})`,
        {
          node: record.node,
          hint: `Start it: \`vendetta workspace start ${record.name}\`, or see \`vendetta workspace ports ${record.name}\`.`,
        },
      );
    }
    return svc.nodePort;
  }

  /**
   * A port no service has: forwarded when the config's forwardPorts names it (it may start
   * listening later, as VS Code forwards them) or something listens on it inside now, and the
   * node can reach it at the workspace's address; refused otherwise, naming the service ports.
   */
  private async unpublishedPortOf(
    record: WorkspaceRecord,
    port: number,
    status: WorkspaceServicesStatus,
  ): Promise<number> {
    const known = status.services.filter((s) => s.port !== undefined).map((s) => `${s.port} (${s.name})`);
    const refuse = (why: string, cause?: unknown) =>
      new VendettaError('INVALID_PARAMS', `No service of ${record.name} listens on port ${port}`, {
        node: record.node,
        hint: `${why} ${known.length ? `Its service ports: ${known.join(', ')}.` : `Give a service \`port: ${port}\` in its config.`}`,
        ...(cause ? { cause } : {}),
      });
    if (!record.ports?.forwardPorts.some((f) => f.port === port)) {
      const found = checkDetectedPorts(
        await this.workspaces.client(record.node).request(DetectPorts, { workspace: record.name }),
        record.node,
      ).ports.find((d) => d.port === port);
      if (!found) throw refuse(`Nothing listens on port ${port} inside it either.`);
      if (found.loopbackOnly)
        throw refuse(
          `Port ${port} listens on 127.0.0.1 only inside it, which the node cannot reach: make it listen on 0.0.0.0, or use Remote-SSH's port forwarding.`,
        );
    }
    try {
      return await this.endpoint(record, port).nodePortNow();
    } catch (err) {
      if (agentErrorName(err) !== 'PROVIDER_ERROR') throw err;
      throw refuse(`${(err as Error).message}.`, err);
    }
  }

  private async ask<P>(
    record: WorkspaceRecord,
    type: RequestType<P, WorkspaceServicesStatus, AgentErrorData>,
    params: P,
  ): Promise<WorkspaceServicesStatus> {
    this.watchNode(record.node);
    return checkServicesStatus(await this.workspaces.client(record.node).request(type, params), record.node);
  }

  private toServices(node: string, s: WorkspaceServicesStatus): WorkspaceServices {
    return { name: s.workspace, node, services: s.services };
  }

  private watchNode(node: string): void {
    let client: AgentClient;
    try {
      client = this.workspaces.client(node);
    } catch {
      return; // not registered (any more): nothing to hear from
    }
    const cur = this.watched.get(node);
    if (cur?.client === client) return;
    cur?.sub.dispose();
    const sub = client.onNotification(AgentServicesDidChange, (raw) => {
      let ws: WorkspaceServices;
      try {
        ws = this.toServices(node, checkServicesStatus(raw, node));
      } catch (err) {
        this.log.warn('dropped a malformed services change', { node, err });
        return;
      }
      for (const l of [...this.listeners]) {
        try {
          l(ws);
        } catch (err) {
          this.log.error('a services listener threw', { err });
        }
      }
    });
    const portsSub = client.onNotification(AgentPortsDidChange, (raw) => {
      let name: string;
      try {
        name = checkDetectedPorts(raw, node).workspace;
      } catch (err) {
        this.log.warn('dropped a malformed ports change', { node, err });
        return;
      }
      for (const l of [...this.portListeners]) l({ name, node });
    });
    this.watched.set(node, {
      client,
      sub: {
        dispose: () => {
          sub.dispose();
          portsSub.dispose();
        },
      },
    });
  }
}

function nameParams(record: WorkspaceRecord, service: string | undefined): ServiceNameParams {
  return service ? { workspace: record.name, service } : { workspace: record.name };
}
