/**
 * An agent for workspace tests without Docker: workspaces live in a map, each with a real folder
 * on disk; `sync-receive` is emulated with GNU tar on the real stream the coordinator sends;
 * openTcp connects to whatever port the test says the workspace's sshd is on.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { PassThrough, type Duplex } from 'node:stream';
import { ResponseError, type NotificationType } from 'vscode-jsonrpc';
import { specImage } from '../../../agent/protocol';
import type {
  FeaturesAdded,
  InitializeResult,
  ServiceLogLine,
  SyncReadParams,
  SyncScanParams,
  ServiceStatus,
  WorkspaceHostKey,
  WorkspaceInfo,
  WorkspaceServicesStatus,
  WorkspaceSpec,
} from '../../../agent/protocol';
import { readEntry, scanEntries } from '../../../agent/sync/scan';
import { VendettaError } from '../../../coordinator/errors';
import type { AgentClient, AgentCommand, Disposable, LinkState } from '../../../coordinator/nodes/agentClient';
import { fingerprintOf } from '../../../coordinator/ssh/fingerprint';
import { generateEd25519Pair } from '../../../coordinator/ssh/identity';

export function agentError(node: string, name: string, message: string, hint = 'do something'): VendettaError {
  return new VendettaError('AGENT_ERROR', message, {
    node,
    hint,
    cause: new ResponseError(2010, message, { code: name, hint }),
  });
}

export function hostKey(): WorkspaceHostKey {
  const pair = generateEd25519Pair('fake');
  const [type, b64] = pair.public.split(' ') as [string, string];
  return { type, publicKey: `${type} ${b64}`, fingerprint: fingerprintOf(Buffer.from(b64, 'base64')) };
}

export class FakeWorkspaceAgent implements AgentClient {
  state: LinkState = 'online';
  lastError: VendettaError | undefined;
  lastSeen: Date | undefined;
  agent: InitializeResult | undefined = {
    protocolVersion: 1,
    agentVersion: '0',
    buildId: 'fake',
    pid: 1,
    startedAt: '',
  };
  readonly workspaces = new Map<string, WorkspaceInfo & { spec: WorkspaceSpec }>();
  readonly calls: string[] = [];
  /** Thrown by the next request of that method. */
  readonly failNext = new Map<string, VendettaError>();
  /** Port of the "sshd" every workspace reports. */
  sshPort = 1;
  syncRuns = 0;
  /** The next sync-receive refuses the stream the way the agent does. */
  syncFailure: { code: string; message: string; hint: string } | undefined;
  /** Services per workspace, as `services/*` reports them (made from the spec on services/start). */
  readonly services = new Map<string, ServiceStatus[]>();
  /** nodePort a service gets when started, by service name (none: no nodePort). */
  readonly nodePorts = new Map<string, number>();
  /** Ports listening inside each workspace, as `ports/detect` reports them while it runs. */
  readonly detected = new Map<string, Array<{ port: number; loopbackOnly: boolean }>>();
  /** The workspace's own address, as a provider that gives one reports it (a port no service has is reached there). */
  readonly addresses = new Map<string, string>();
  /** Log lines `services/readLogs` answers with; follows get later ones through emit(). */
  readonly logLines: ServiceLogLine[] = [];
  readonly follows = new Set<string>();
  /** What a workspace's features add, as the agent reports it on create (by workspace name). */
  readonly featuresAdded = new Map<string, FeaturesAdded>();
  /** What the next creates answer in `warnings` (as an agent whose dotfiles failed), by workspace name. */
  readonly createWarnings = new Map<string, unknown>();
  /** Progress lines each create says after its first (as the agent's feature install does). */
  readonly createSays: string[] = [];
  /** The `dotfiles` each create was given, in order. */
  readonly createDotfiles: unknown[] = [];
  private readonly handlers = new Map<string, Set<(p: unknown) => void>>();

  /** Sends a notification as the agent would. */
  emit(method: string, params: unknown): void {
    for (const h of [...(this.handlers.get(method) ?? [])]) h(params);
  }

  constructor(
    readonly nodeName: string,
    private readonly root: string,
  ) {}

  folder(name: string): string {
    return join(this.root, this.nodeName, name);
  }

  async connect(): Promise<InitializeResult> {
    return this.agent!;
  }

  onStateChange(): Disposable {
    return { dispose: () => undefined };
  }

  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): Disposable {
    let set = this.handlers.get(type.method);
    if (!set) this.handlers.set(type.method, (set = new Set()));
    const h = handler as (p: unknown) => void;
    set.add(h);
    return { dispose: () => set.delete(h) };
  }

  async close(): Promise<void> {
    this.state = 'offline';
  }

  async request(type: { method: string }, params?: unknown): Promise<never> {
    this.calls.push(type.method);
    const fail = this.failNext.get(type.method);
    if (fail) {
      this.failNext.delete(type.method);
      throw fail;
    }
    const p = params as { name?: string; spec?: WorkspaceSpec; progressToken?: string; force?: boolean };
    const get = (name: string) => {
      const w = this.workspaces.get(name);
      if (!w) throw agentError(this.nodeName, 'WORKSPACE_NOT_FOUND', `no workspace ${name}`);
      return w;
    };
    const info = (w: WorkspaceInfo & { spec: WorkspaceSpec }) => {
      const { spec: _spec, ...rest } = w;
      return structuredClone(rest) as never;
    };
    switch (type.method) {
      case 'workspaces/create': {
        const spec = p.spec!;
        for (const h of this.handlers.get('progress/didReport') ?? [])
          for (const message of ['pulling nothing', ...this.createSays])
            h({ token: p.progressToken, step: 1, total: 2, message });
        let w = this.workspaces.get(spec.name);
        if (!w) {
          mkdirSync(this.folder(spec.name), { recursive: true });
          w = {
            spec,
            name: spec.name,
            provider: spec.provider,
            state: 'running',
            image: specImage(spec),
            user: spec.user,
            workspaceFolder: spec.workspaceFolder,
            nodeFolder: this.folder(spec.name),
            ssh: { host: '127.0.0.1', port: this.sshPort, hostKey: hostKey() },
            createdAt: new Date().toISOString(),
          };
          this.workspaces.set(spec.name, w);
        }
        w.state = 'running';
        const added = this.featuresAdded.get(spec.name);
        if (added) w.features = added;
        this.createDotfiles.push((params as { dotfiles?: unknown }).dotfiles);
        const warnings = this.createWarnings.get(spec.name);
        return (warnings === undefined ? info(w) : { ...(info(w) as object), warnings }) as never;
      }
      case 'workspaces/start':
      case 'workspaces/stop': {
        const w = get(p.name!);
        w.state = type.method === 'workspaces/start' ? 'running' : 'stopped';
        return info(w);
      }
      case 'workspaces/inspect':
        return info(get(p.name!));
      case 'workspaces/list':
        return [...this.workspaces.values()].map(info) as never;
      case 'workspaces/remove': {
        const w = get(p.name!);
        if (w.state === 'running' && !p.force)
          throw agentError(this.nodeName, 'WORKSPACE_RUNNING', `${p.name} is running`);
        rmSync(w.nodeFolder, { recursive: true, force: true });
        this.workspaces.delete(p.name!);
        return { name: p.name } as never;
      }
      case 'workspaces/syncScan': {
        const q = params as SyncScanParams;
        return { changes: await scanEntries(get(q.name).nodeFolder, q.entries) } as never;
      }
      case 'workspaces/syncRead': {
        const q = params as SyncReadParams;
        return (await readEntry(get(q.name).nodeFolder, q.path)) as never;
      }
      case 'services/list':
      case 'services/start':
      case 'services/stop':
        return this.servicesRequest(type.method, params as { workspace: string; service?: string }) as never;
      case 'services/readLogs': {
        const q = params as {
          workspace: string;
          service?: string;
          tail?: number;
          since?: string;
          follow?: boolean;
          followToken?: string;
        };
        get(q.workspace);
        if (q.follow && q.followToken) this.follows.add(q.followToken);
        let lines = this.logLines.filter(
          (l) => (!q.service || l.service === q.service) && (!q.since || l.time >= q.since),
        );
        if (q.tail !== undefined) lines = lines.slice(Math.max(0, lines.length - q.tail));
        return { lines: structuredClone(lines) } as never;
      }
      case 'services/unfollow': {
        const t = (params as { followToken: string }).followToken;
        return { stopped: this.follows.delete(t) } as never;
      }
      case 'ports/resolveNodePort': {
        // Like the provider's mapping: only a running workspace publishes its service ports.
        const q = params as { workspace: string; port: number };
        const w = get(q.workspace);
        if (w.state !== 'running')
          throw agentError(
            this.nodeName,
            'WORKSPACE_NOT_RUNNING',
            `Workspace ${q.workspace} is not running, so its port ${q.port} is not published on the node`,
            `Start it (\`vendetta workspace start ${q.workspace}\`).`,
          );
        const nodePort = this.services.get(q.workspace)?.find((s) => s.port === q.port)?.nodePort;
        const host = this.addresses.get(q.workspace);
        if (nodePort === undefined && host !== undefined) return { nodePort: q.port, host } as never;
        if (nodePort === undefined) throw agentError(this.nodeName, 'PROVIDER_ERROR', `no node port for ${q.port}`);
        return { nodePort } as never;
      }
      case 'ports/detect': {
        const q = params as { workspace: string };
        const running = get(q.workspace).state === 'running';
        return {
          workspace: q.workspace,
          running,
          ports: running ? (this.detected.get(q.workspace) ?? []) : [],
        } as never;
      }
      default:
        throw new Error(`unexpected request ${type.method}`);
    }
  }

  private servicesRequest(method: string, q: { workspace: string; service?: string }): WorkspaceServicesStatus {
    const w = this.workspaces.get(q.workspace);
    if (!w) throw agentError(this.nodeName, 'WORKSPACE_NOT_FOUND', `no workspace ${q.workspace}`);
    let list = this.services.get(q.workspace);
    if (!list) {
      list = (w.spec.services ?? []).map(
        (s) =>
          ({
            name: s.name,
            state: 'stopped',
            restarts: 0,
            ...(s.port !== undefined ? { port: s.port } : {}),
          }) as ServiceStatus,
      );
      this.services.set(q.workspace, list);
    }
    for (const s of list) {
      if (q.service && s.name !== q.service) continue;
      if (method === 'services/start') {
        s.state = 'healthy';
        const np = this.nodePorts.get(s.name);
        if (np !== undefined) s.nodePort = np;
      } else if (method === 'services/stop') s.state = 'stopped';
    }
    const status = { workspace: q.workspace, services: structuredClone(list), hooks: {} };
    if (method !== 'services/list') this.emit('services/didChange', structuredClone(status));
    return status;
  }

  async runAgentCommand(args: string[]): Promise<AgentCommand> {
    const [cmd, name] = args;
    if (cmd !== 'sync-receive' || !name) throw new Error(`unexpected agent command ${args.join(' ')}`);
    const dir = this.workspaces.get(name)?.nodeFolder;
    if (!dir) throw new Error(`no workspace ${name}`);
    this.syncRuns++;
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const chunks: Buffer[] = [];
    stdin.on('data', (c: Buffer) => chunks.push(c));
    const failure = this.syncFailure;
    this.syncFailure = undefined;
    const exit = new Promise<number>((resolve) => {
      stdin.on('end', () => {
        if (failure) {
          stdout.end(JSON.stringify({ error: failure }) + '\n');
          stderr.end(`error: ${failure.message}\nhint: ${failure.hint}\n`);
          resolve(1);
          return;
        }
        const archive = Buffer.concat(chunks);
        const tar = spawn('tar', ['-x', '-C', dir, '--no-same-owner'], { stdio: ['pipe', 'ignore', 'pipe'] });
        let err = '';
        tar.stderr.on('data', (d: Buffer) => (err += d.toString()));
        tar.stdin.end(archive);
        tar.on('close', (code) => {
          if (code !== 0) {
            stderr.end(`error: tar failed: ${err}\n`);
            stdout.end();
            resolve(1);
            return;
          }
          const header = JSON.parse(readFileSync(join(dir, '.vendetta-sync.json'), 'utf8')) as { delete: string[] };
          unlinkSync(join(dir, '.vendetta-sync.json'));
          for (const d of header.delete) rmSync(join(dir, d), { force: true });
          const written = Math.max(0, archive.length ? countEntries(archive) - 1 : 0);
          stdout.end(JSON.stringify({ written, deleted: header.delete.length, bytes: archive.length }) + '\n');
          stderr.end();
          resolve(0);
        });
      });
    });
    return { stdin, stdout, stderr, exit, kill: () => stdin.destroy() };
  }

  openTcp(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      s.once('connect', () => resolve(s));
      s.once('error', (err) =>
        reject(
          new VendettaError('TUNNEL_FAILED', `cannot connect to ${host}:${port}: ${err.message}`, { hint: 'start it' }),
        ),
      );
    });
  }
}

function countEntries(archive: Buffer): number {
  let n = 0;
  let off = 0;
  while (off + 512 <= archive.length) {
    const h = archive.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/, '').trim() || '0', 8);
    if (h[156] !== 'x'.charCodeAt(0)) n++;
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return n;
}

export function writeProject(dir: string, files: Record<string, string>): void {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
}
