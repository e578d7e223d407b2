/**
 * Every workspace's services on this node: one orchestrator per workspace, logs on disk,
 * followers, a `services/didChange` broadcast on each state change, and — after an agent
 * restart — services supervised again.
 *
 * After a restart the agent cannot re-attach to the old runs' output (their exec streams died
 * with the old daemon), so it does not adopt them: it kills every marked service process in the
 * workspace (processControl.ts) and starts the services again, in order, without the hooks. The
 * user sees them running again within a start; their logs go on in the same files.
 */
import { join } from 'node:path';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import type {
  FeatureHooks,
  HookRun,
  ServiceLogLine,
  ServiceLogsParams,
  WorkspaceServicesStatus,
  WorkspaceSpec,
} from '../protocol';
import type { WorkspaceProvider } from '../providers/contract';
import { serviceEnv } from './env';
import { hookSteps, type HookSteps } from './hooks';
import { resolveRemoteEnv } from '../workspaces/remoteEnv';
import { loadSecrets } from '../workspaces/secrets';
import { nodeHttpGet, nodeTcpConnect } from './health';
import { ServiceLogFiles, selectLines } from './logFiles';
import { LogFollows } from './follows';
import { WorkspaceServices } from './orchestrator';
import type { PortChoice } from './ports';
import { ANY_RUN, sweepArgv } from './processControl';
import type { WorkspaceHost } from './portRelay';
import { DEFAULT_TIMING, type ServiceTiming } from './runner';
import { readServicesRecord, servicesStateFile, writeServicesRecord, type ServicesRecord } from './state';

/** A workspace as its services need it. */
export interface ServiceTarget {
  spec: WorkspaceSpec;
  provider: WorkspaceProvider;
  providerId: string | undefined;
  running: boolean;
  /** Container port → node port (127.0.0.1), as the agent chose them. */
  ports: Record<string, number>;
  /** Container port → node port as the provider maps it right now (empty unless running). */
  published: Record<string, number>;
  /** The workspace's own address on the node, when its provider gives one (a port no service publishes is reached there). */
  address?: string;
  /** The workspace's folder in the agent home (logs and services.json go there). */
  dir: string;
  /** The container's environment as the provider reports it, for remoteEnv's `${containerEnv:…}`. */
  containerEnv?: Record<string, string>;
  /** The Dev Container Features' lifecycle commands, run before the spec's hooks of the same kind. */
  featureHooks?: FeatureHooks[];
}

const hooksOf = (t: ServiceTarget): HookSteps => hookSteps(t.spec.hooks, t.featureHooks);

export interface TargetSource {
  target(name: string): Promise<ServiceTarget>;
  names(): string[];
}

export interface SupervisorOptions {
  targets: TargetSource;
  logger: Logger;
  broadcast(status: WorkspaceServicesStatus): void;
  timing?: ServiceTiming;
}

interface Entry {
  key: string;
  orch: WorkspaceServices;
  target: ServiceTarget;
}

export class ServicesSupervisor {
  private readonly entries = new Map<string, Entry>();
  /** One writer per workspace folder: it batches, and knows each file's size. */
  private readonly logWriters = new Map<string, ServiceLogFiles>();
  readonly follows = new LogFollows();

  constructor(private readonly opts: SupervisorOptions) {}

  private logFiles(dir: string): ServiceLogFiles {
    let f = this.logWriters.get(dir);
    if (!f) {
      f = new ServiceLogFiles(join(dir, 'logs'), undefined, (err) =>
        this.opts.logger.warn('could not write service log lines', { dir, err }),
      );
      this.logWriters.set(dir, f);
    }
    return f;
  }

  private async entry(name: string): Promise<Entry> {
    const target = await this.opts.targets.target(name);
    const parts = {
      services: target.spec.services ?? [],
      hooks: hooksOf(target),
      env: target.spec.env,
      remoteEnv: target.spec.remoteEnv ?? {},
      user: target.spec.user,
      ports: target.ports,
      providerId: target.providerId,
    };
    const key = JSON.stringify(Object.values(parts));
    const old = this.entries.get(name);
    if (old && old.key === key) {
      old.target = target;
      return old;
    }
    // The workspace was made again (new container or config): the old runs go first.
    if (old) {
      const was = JSON.parse(old.key) as unknown[];
      const changed = Object.keys(parts).filter(
        (k, i) => JSON.stringify(was[i]) !== JSON.stringify(Object.values(parts)[i]),
      );
      this.opts.logger.info('the services of a workspace start over: it changed', { workspace: name, changed });
      await old.orch.stop();
    }
    const fresh: Entry = { key, target, orch: this.orchestrator(name, target) };
    this.entries.set(name, fresh);
    return fresh;
  }

  private orchestrator(name: string, t: ServiceTarget): WorkspaceServices {
    const logs = this.logFiles(t.dir);
    const stateFile = servicesStateFile(t.dir);
    const services = t.spec.services ?? [];
    const ref: { orch?: WorkspaceServices } = {};
    const host: WorkspaceHost = {
      exec: (argv, o) => {
        if (!t.providerId)
          return Promise.reject(new AgentError('WORKSPACE_MISSING', `Workspace ${name} has no container`));
        return t.provider.exec(t.providerId, argv, o);
      },
      // Hooks run "as remote" (the spec's lifecycle commands): remoteEnv over the service env.
      // The secrets are read at each run: `up` may have changed them since the services started.
      runOptions: (svc, runId, asRemote) => ({
        env: {
          ...serviceEnv({ ...t.spec.env, ...loadSecrets(t.dir) }, services, svc, runId),
          ...(asRemote ? resolveRemoteEnv(t.spec.remoteEnv, t.containerEnv ?? t.spec.env) : {}),
        },
        user: t.spec.user,
        workingDir: t.spec.workspaceFolder,
      }),
      nodePortOf: (p) => t.ports[String(p)],
      relayNeeded: t.provider.publishedPortsArrive === 'address',
      // Asked at each check: a restarted container may have another address.
      workspaceAddress: async () => (t.providerId ? (await t.provider.inspect(t.providerId))?.address : undefined),
      workspaceDown: async () => {
        if (!t.providerId) return 'the workspace has no container';
        const ws = await t.provider.inspect(t.providerId).catch(() => null);
        if (ws === null || ws?.state === 'running') return undefined;
        return ws ? `the workspace is ${ws.state}${ws.error ? ` (${ws.error})` : ''}` : 'the workspace is gone';
      },
      httpGet: nodeHttpGet,
      tcpConnect: nodeTcpConnect,
      log: (line) => this.log(name, logs, line),
      changed: () => {
        if (ref.orch) this.opts.broadcast(ref.orch.status());
      },
      timing: this.opts.timing ?? DEFAULT_TIMING,
    };
    ref.orch = new WorkspaceServices({
      workspace: name,
      services,
      hooks: hooksOf(t),
      host,
      postCreateDone: () => readServicesRecord(stateFile).postCreate?.state === 'succeeded',
      markPostCreateDone: (run: HookRun) => this.remember(t.dir, { postCreate: run }),
    });
    return ref.orch;
  }

  private log(workspace: string, files: ServiceLogFiles, line: ServiceLogLine): void {
    try {
      files.append(line);
    } catch (err) {
      this.opts.logger.warn('could not write a service log line', { workspace, service: line.service, err });
    }
    this.follows.publish(workspace, line);
  }

  private remember(dir: string, patch: Partial<ServicesRecord>): void {
    const file = servicesStateFile(dir);
    try {
      writeServicesRecord(file, { ...readServicesRecord(file), ...patch });
    } catch (err) {
      this.opts.logger.warn('could not write the services state', { file, err });
    }
  }

  async list(name: string): Promise<WorkspaceServicesStatus> {
    return (await this.entry(name)).orch.status();
  }

  async start(name: string, service?: string): Promise<WorkspaceServicesStatus> {
    const e = await this.entry(name);
    this.requireService(name, e, service);
    if (!e.target.running || !e.target.providerId) {
      throw new AgentError('WORKSPACE_NOT_RUNNING', `Workspace ${name} is not running`, {
        hint: `Start it first (\`vendetta workspace up ${name}\`).`,
      });
    }
    if (service === undefined) this.remember(e.target.dir, { desired: 'running' });
    await e.orch.start(service);
    return e.orch.status();
  }

  async stop(name: string, service?: string): Promise<WorkspaceServicesStatus> {
    const e = await this.entry(name);
    this.requireService(name, e, service);
    if (service === undefined) this.remember(e.target.dir, { desired: 'stopped' });
    await e.orch.stop(service);
    return e.orch.status();
  }

  /**
   * The node port that carries `port` of the workspace, asked of the provider now (not our
   * record, not a probe): before a forwarded connection is carried, so that a port a stopped
   * workspace let go of, and another process took, never gets the laptop's traffic.
   */
  /** An SSH client connected: postAttach runs, when the workspace runs and has one. */
  async attached(name: string): Promise<{ started: boolean }> {
    const e = await this.entry(name);
    if (!e.target.running || !e.target.providerId) return { started: false };
    return { started: e.orch.attached() };
  }

  /**
   * Where the node reaches a workspace port: a service's published node port on 127.0.0.1, else
   * (a port a dev server opened, or a `forwardPorts` entry) the port itself at the workspace's own
   * address, when its provider gives one, or a node port the provider publishes it on now.
   */
  async nodePort(name: string, port: number): Promise<{ nodePort: number; host?: string }> {
    const t = await this.opts.targets.target(name);
    if (!t.running) {
      throw new AgentError(
        'WORKSPACE_NOT_RUNNING',
        `Workspace ${name} is not running, so its port ${port} is not published on the node`,
        {
          hint: `Start it (\`vendetta workspace start ${name}\`); the forward carries connections again once it runs.`,
        },
      );
    }
    const nodePort = t.published[String(port)];
    if (nodePort !== undefined) return { nodePort };
    if (t.address) return { nodePort: port, host: t.address };
    if (t.provider.publishPort && t.providerId) return { nodePort: await t.provider.publishPort(t.providerId, port) };
    throw new AgentError(
      'PROVIDER_ERROR',
      `The ${t.spec.provider} engine publishes no node port for port ${port} of workspace ${name}, and gives the workspace no address the node can reach`,
      {
        provider: t.spec.provider,
        hint: `Give a service \`port: ${port}\` in the config and run \`vendetta workspace up\` again (a service's port is published), or reach it through Remote-SSH's own port forwarding.`,
      },
    );
  }

  private requireService(name: string, e: Entry, service: string | undefined): void {
    if (service !== undefined && !e.orch.has(service)) {
      const known = (e.target.spec.services ?? []).map((s) => s.name);
      const hooks = Object.keys(hooksOf(e.target));
      const also = hooks.length ? `; its hooks: ${hooks.join(', ')}` : '';
      throw new AgentError('INVALID_PARAMS', `Workspace ${name} has no service ${service}`, {
        hint: known.length ? `Its services: ${known.join(', ')}${also}.` : `Its config has no services${also}.`,
      });
    }
  }

  /** Before the workspace stops: its services stop, and stay stopped after an agent restart. */
  async workspaceStopping(name: string): Promise<void> {
    const e = this.entries.get(name);
    if (!e) return;
    this.remember(e.target.dir, { desired: 'stopped' });
    await e.orch.stop();
  }

  /** Before the workspace is removed: nothing of it keeps running, nobody follows its logs. */
  async workspaceRemoving(name: string): Promise<void> {
    const e = this.entries.get(name);
    if (e) {
      await e.orch.stop();
      try {
        this.logWriters.get(e.target.dir)?.close();
      } catch (err) {
        this.opts.logger.warn('could not write service log lines', { workspace: name, err });
      }
      this.logWriters.delete(e.target.dir);
    }
    this.entries.delete(name);
    this.follows.removeWorkspace(name);
  }

  /** Before the container is made again: the services stop, and postCreate runs in the new one. */
  async workspaceRecreating(name: string): Promise<void> {
    const t = await this.opts.targets.target(name);
    await this.workspaceRemoving(name);
    const file = servicesStateFile(t.dir);
    const { postCreate: _ran, ...rest } = readServicesRecord(file);
    try {
      writeServicesRecord(file, rest);
    } catch (err) {
      this.opts.logger.warn('could not write the services state', { file, err });
    }
  }

  /** A service port that could not have its own number on the node says so in its log. */
  portsChosen(name: string, dir: string, spec: WorkspaceSpec, choices: readonly PortChoice[]): void {
    const files = this.logFiles(dir);
    for (const c of choices) {
      if (c.preferredTaken === undefined) continue;
      for (const s of (spec.services ?? []).filter((x) => x.port === c.guestPort)) {
        this.log(name, files, {
          time: new Date().toISOString(),
          service: s.name,
          stream: 'system',
          line: `port ${c.preferredTaken} is taken on the node; port ${c.guestPort} is published on 127.0.0.1:${c.nodePort} instead`,
        });
      }
    }
  }

  async logs(p: ServiceLogsParams): Promise<ServiceLogLine[]> {
    const e = await this.entry(p.workspace);
    const files = this.logFiles(e.target.dir);
    if (
      p.service !== undefined &&
      !e.orch.has(p.service) &&
      !Object.keys(hooksOf(e.target)).includes(p.service) &&
      !files.sources().includes(p.service)
    ) {
      // Without this an unknown name printed nothing at all, as if the service had been silent.
      this.requireService(p.workspace, e, p.service);
    }
    const sources = p.service !== undefined ? [p.service] : files.sources();
    return selectLines(
      sources.map((s) => files.read(s)),
      { ...(p.tail !== undefined ? { tail: p.tail } : {}), ...(p.since !== undefined ? { since: p.since } : {}) },
    );
  }

  /** Loads the entry (and so checks the workspace exists) before its logs are read. */
  async ensure(name: string): Promise<void> {
    await this.entry(name);
  }

  /** After a daemon restart: services that should run run again (see the header). */
  async resume(): Promise<void> {
    for (const name of this.opts.targets.names()) {
      try {
        const t = await this.opts.targets.target(name);
        if (!t.spec.services?.length || !t.running || !t.providerId) continue;
        if (readServicesRecord(servicesStateFile(t.dir)).desired !== 'running') continue;
        const killed = await t.provider.exec(t.providerId, sweepArgv('KILL', ANY_RUN), {
          user: 'root',
          timeoutMs: 10_000,
        });
        const e = await this.entry(name);
        this.opts.logger.info('resuming the services of a workspace', {
          workspace: name,
          leftoverProcesses: Number(killed.stdout.trim()) || 0,
        });
        for (const r of e.orch.runners) r.system('the agent restarted: starting the service again');
        await e.orch.start(undefined, false);
      } catch (err) {
        this.opts.logger.warn('could not resume the services of a workspace', { workspace: name, err });
      }
    }
  }
}
