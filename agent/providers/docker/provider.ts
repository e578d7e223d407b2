/** Workspaces as Docker containers, through the Engine API on the node's socket. */
import { AgentError } from '../../errors';
import {
  builtImagePrefix,
  specImage,
  WORKSPACE_LABEL,
  type DockerWorkspaceSpec,
  type WorkspaceSpec,
} from '../../protocol';
import { tarBuffer, type TarInput } from '../../../common/tar/encode';
import { readTar } from '../../../common/tar/decode';
import { sshdAccountFiles } from '../broughtSshd';
import {
  NodePortTakenError,
  type BroughtSshServer,
  type CallOptions,
  type ExecOptions,
  type ExecResult,
  type PrepareImageRequest,
  type PreparedImage,
  type ProviderCreateRequest,
  type ProviderWorkspace,
  type SshServerIntent,
  type WorkspaceFile,
  type WorkspaceProvider,
} from '../contract';
import { specFor } from '../specFor';
import { containerCreateBody, dockerCalls } from './api';
import { EngineClient, EngineHttpError } from './engine';
import { dockerExec } from './exec';
import { buildImage, ensureImage } from './image';
import { withEntrypoints, withFeatureRun } from './features/dockerfile';
import { ensureFeaturesImage } from './features/build';
import { followContainerEvents, InspectCache } from './inspectCache';
import { parseContainerInspect, parseContainerList, parseIdReply, parsePathStat, takenNodePort } from './parse';
import { mountRefusal } from './runOptions';
import { demuxAll } from './stream';

export const containerName = (workspace: string): string => `vendetta-${workspace}`;

/** Docker runs the SSH server as the container's main process: in the foreground, logging to stderr. */
export const sshdMainProcess = (ssh: Pick<SshServerIntent, 'binary' | 'configPath'>): string[] => [
  ssh.binary,
  '-D',
  '-e',
  '-f',
  ssh.configPath,
];

/** Seconds the SSH server gets to exit on stop before SIGKILL. */
const STOP_GRACE_S = 5;

export class DockerProvider implements WorkspaceProvider {
  readonly name = 'docker' as const;
  readonly publishedPortsArrive = 'address' as const;

  /** Running containers' inspects, kept true by the engine's event stream (inspectCache.ts). */
  private readonly cache = new InspectCache();
  private following = false;

  constructor(readonly engine: EngineClient) {}

  static forSocket(socketPath: string): DockerProvider {
    return new DockerProvider(new EngineClient(socketPath));
  }

  refusal(spec: WorkspaceSpec, agentHome: string): AgentError | undefined {
    return mountRefusal(dockerSpec(spec).docker.run, agentHome);
  }

  async prepareImage(req: PrepareImageRequest): Promise<PreparedImage> {
    return this.guard(async () => {
      const spec = dockerSpec(req.spec);
      if (!spec.docker.features) return { env: {} };
      const { env, summary } = await ensureFeaturesImage(this.engine, spec, req.nodeFolder, req.progress, req.signal);
      const { hooks, vscode } = summary;
      return { env, ...(hooks.length || vscode.length ? { features: { hooks, vscode } } : {}) };
    });
  }

  async create(request: ProviderCreateRequest): Promise<ProviderWorkspace> {
    return this.guard(async () => {
      let req = request;
      let spec = dockerSpec(req.spec);
      const image = spec.docker.image;
      // A build never tags over an image the project did not name (the shared base image).
      if ((spec.docker.build || spec.docker.features) && !image.startsWith(builtImagePrefix(spec.name))) {
        throw new AgentError(
          'INVALID_PARAMS',
          `A built image must be named ${builtImagePrefix(spec.name)}<hash of the build inputs>, not ${image}`,
          { provider: 'docker', hint: 'Upgrade vendetta so the coordinator and the agent match.' },
        );
      }
      const adopted = req.adopt ? await this.adoptable(req.adopt, req) : undefined;
      let id = adopted?.providerId;
      let brought = adopted?.sshServer === 'agent';
      let entrypoints: string[] = [];
      if (spec.docker.features) {
        // Built by prepareImage already (or now, for a caller that did not): then only read back.
        const { summary } = await ensureFeaturesImage(this.engine, spec, req.nodeFolder, req.progress, req.signal);
        const run = withFeatureRun(spec.docker.run, summary, spec.name);
        spec = { ...spec, docker: { ...spec.docker, ...(run ? { run } : {}) } };
        req = { ...req, spec };
        entrypoints = summary.entrypoints;
      }
      if (!id) {
        // A features image is there already (above).
        if (!spec.docker.features && spec.docker.build) {
          req.progress(`Building the image ${image}`);
          await buildImage(this.engine, spec, req.nodeFolder, req.progress, req.signal);
        } else if (!spec.docker.features) {
          await ensureImage(this.engine, image, req.progress, req.signal);
        }
        req.progress(`Creating the container ${containerName(spec.name)}`);
        id = await this.createContainer(req, undefined, entrypoints);
      } else {
        req.progress(`Adopting the container ${containerName(spec.name)} left by an earlier create`);
      }
      if (!brought && !(await this.hasFile(id, req.ssh.binary, req))) {
        // Known only once a container exists: the image's files are not readable before.
        req.progress(`The image ${image} has no OpenSSH server (${req.ssh.binary}): bringing the node's own`);
        const server = await req.ssh.bring();
        await this.remove(id, req);
        id = await this.createContainer(req, server, entrypoints);
        brought = true;
      }
      const accounts = brought
        ? sshdAccountFiles(await this.readFile(id, '/etc/passwd', req), await this.readFile(id, '/etc/group', req))
        : [];
      await this.putFiles(id, [...accounts, ...req.seedFiles], req);
      return (await this.inspect(id, req)) ?? missing(id);
    });
  }

  /**
   * An earlier create's container, if it matches this spec; one of ours that does not is
   * replaced. Someone else's (another agent's labels) is never touched: WORKSPACE_CONFLICT.
   */
  private async adoptable(ref: string, req: ProviderCreateRequest): Promise<ProviderWorkspace | undefined> {
    const found = await this.inspect(ref, req);
    if (!found) return undefined;
    const ours = Object.entries(req.labels).every(([k, v]) => found.labels[k] === undefined || found.labels[k] === v);
    if (!ours) throw conflict(containerName(req.spec.name), req.spec.name);
    const matches =
      found.name === req.spec.name && found.image === specImage(req.spec) && found.nodeFolder === req.nodeFolder;
    if (matches) return found;
    req.progress(
      `Replacing the container ${containerName(req.spec.name)} left by an earlier create (it does not match the config)`,
    );
    await this.remove(found.providerId, req);
    return undefined;
  }

  private async createContainer(
    req: ProviderCreateRequest,
    brought: BroughtSshServer | undefined,
    entrypoints: readonly string[],
    retried = false,
  ): Promise<string> {
    const name = containerName(req.spec.name);
    // The features' entrypoints run first (each returns), then the SSH server is exec'd.
    const command = withEntrypoints(brought ? brought.argv : sshdMainProcess(req.ssh), entrypoints);
    const body = containerCreateBody({
      spec: dockerSpec(req.spec),
      nodeFolder: req.nodeFolder,
      labels: req.labels,
      command,
      sshNodePort: req.sshNodePort,
      ...(brought ? { brought } : {}),
      ...(req.ports ? { ports: req.ports } : {}),
    });
    try {
      return parseIdReply(
        (await this.engine.json(dockerCalls.containerCreate(name, body), { timeoutMs: 60_000, signal: req.signal }))
          .value,
        'a container create reply',
      );
    } catch (err) {
      if (!(err instanceof EngineHttpError) || err.status !== 409) throw err;
      // The name is taken. Ours (same workspace label): adopt it. Anyone else's: refuse.
      const holder = await this.inspect(name, req);
      if (holder && holder.name === req.spec.name && (await this.adoptable(holder.providerId, req)))
        return holder.providerId;
      if (holder?.name === req.spec.name && !retried) return this.createContainer(req, brought, entrypoints, true); // adoptable() removed it
      throw conflict(name, req.spec.name);
    }
  }

  /** Whether `path` in the container is there and not a folder (a link counts: the image's sshd may be one). */
  private async hasFile(id: string, path: string, opts: CallOptions): Promise<boolean> {
    const r = await this.engine.send(dockerCalls.archiveStat(id, path), { timeoutMs: 15_000, signal: opts.signal });
    const stat = r.status === 200 ? parsePathStat(r.headers['x-docker-container-path-stat']) : undefined;
    return r.status === 200 && stat !== undefined && (stat.mode & 0x80000000) === 0;
  }

  /** A small regular file of the container (at most 1 MiB), or undefined when it is not there or not a file. */
  private async readFile(id: string, path: string, opts: CallOptions): Promise<string | undefined> {
    const r = await this.engine.send(dockerCalls.archiveGet(id, path), {
      timeoutMs: 15_000,
      maxBody: 2 * 1024 * 1024,
      signal: opts.signal,
    });
    if (r.status !== 200) return undefined;
    for await (const entry of readTar(oneChunk(r.body))) {
      if (entry.type !== 'file') return undefined;
      const chunks: Buffer[] = [];
      for await (const c of entry.body()) chunks.push(c);
      return Buffer.concat(chunks).toString('utf8');
    }
    return undefined;
  }

  async start(id: string, opts: CallOptions = {}): Promise<ProviderWorkspace> {
    return this.guard(async () => {
      const r = await this.changing(id, () =>
        this.engine.send(dockerCalls.containerStart(id), { timeoutMs: 60_000, signal: opts.signal }),
      ).catch((err: unknown) => {
        const taken = err instanceof EngineHttpError ? takenNodePort(err.message) : undefined;
        throw taken === undefined
          ? err
          : new NodePortTakenError(taken, err instanceof Error ? err.message : String(err), { cause: err });
      });
      if (r.status === 404) throw missing(id);
      return (await this.inspect(id, opts)) ?? missing(id);
    });
  }

  async stop(id: string, opts: CallOptions = {}): Promise<void> {
    return this.guard(async () => {
      const r = await this.changing(id, () =>
        this.engine.send(dockerCalls.containerStop(id, STOP_GRACE_S), {
          timeoutMs: (STOP_GRACE_S + 30) * 1000,
          signal: opts.signal,
        }),
      );
      if (r.status === 404) throw missing(id);
    });
  }

  async remove(id: string, opts: CallOptions = {}): Promise<void> {
    return this.guard(async () => {
      await this.changing(id, () =>
        this.engine.send(dockerCalls.containerRemove(id), { timeoutMs: 60_000, signal: opts.signal }),
      );
    });
  }

  /**
   * A running workspace container's inspect is remembered while the engine's event stream
   * says nothing changed (see inspectCache.ts); anything else is asked of the engine.
   */
  async inspect(id: string, opts: CallOptions = {}): Promise<ProviderWorkspace | undefined> {
    if (!this.following) {
      this.following = true;
      followContainerEvents(this.engine, this.cache);
    }
    const known = this.cache.get(id);
    if (known) return known;
    return this.guard(async () => {
      const began = this.cache.begin();
      const r = await this.engine.json(dockerCalls.containerInspect(id), { timeoutMs: 15_000, signal: opts.signal });
      if (r.status === 404) return undefined;
      const ws = parseContainerInspect(r.value);
      // Only our own: a container without the workspace label is not a workspace.
      if (ws.labels[WORKSPACE_LABEL] === undefined) return undefined;
      this.cache.remember(id, ws, began);
      return ws;
    });
  }

  /** A lifecycle call of ours: what was remembered of the container goes, before and after. */
  private async changing<T>(id: string, call: () => Promise<T>): Promise<T> {
    this.cache.forget(id);
    try {
      return await call();
    } finally {
      this.cache.forget(id);
    }
  }

  async list(opts: CallOptions = {}): Promise<ProviderWorkspace[]> {
    return this.guard(async () =>
      parseContainerList(
        (await this.engine.json(dockerCalls.containerList(), { timeoutMs: 15_000, signal: opts.signal })).value,
      ),
    );
  }

  async putFiles(id: string, files: WorkspaceFile[], opts: CallOptions = {}): Promise<void> {
    return this.guard(async () => {
      const entries: TarInput[] = files.map((f) => ({
        path: f.path.replace(/^\/+/, '') + (f.type === 'directory' ? '/' : ''),
        type: f.type,
        mode: f.mode,
        uid: f.uid ?? 0,
        gid: f.gid ?? 0,
        mtimeMs: Date.now(),
        data: f.content,
      }));
      const r = await this.engine.send(dockerCalls.archivePut(id, '/'), {
        body: tarBuffer(entries),
        contentType: 'application/x-tar',
        timeoutMs: 60_000,
        signal: opts.signal,
      });
      if (r.status === 404) throw missing(id);
    });
  }

  async exec(id: string, argv: string[], opts?: ExecOptions): Promise<ExecResult> {
    return this.guard(() => dockerExec(this.engine, id, argv, opts));
  }

  async logs(id: string, lines: number, opts: CallOptions = {}): Promise<string> {
    return this.guard(async () => {
      const r = await this.engine.send(dockerCalls.logs(id, lines), {
        timeoutMs: 15_000,
        maxBody: 1024 * 1024,
        signal: opts.signal,
      });
      if (r.status === 404) return '';
      const { stdout, stderr } = demuxAll(r.body);
      return (stdout + stderr).trim();
    });
  }

  /** Engine statuses nobody expected become PROVIDER_ERROR with the engine's own words. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof EngineHttpError) {
        throw new AgentError('PROVIDER_ERROR', err.message, {
          provider: 'docker',
          hint: 'See the Docker engine log on the node for details.',
          cause: err,
        });
      }
      if (err instanceof AgentError) throw err;
      if (err instanceof Error && err.name === 'UnexpectedReply')
        throw new AgentError('PROVIDER_ERROR', err.message, { provider: 'docker', cause: err });
      throw err;
    }
  }
}

const dockerSpec = (spec: WorkspaceSpec): DockerWorkspaceSpec => specFor('docker', spec);

async function* oneChunk(body: Buffer): AsyncGenerator<Buffer> {
  yield body;
}

function conflict(name: string, workspace: string): AgentError {
  return new AgentError(
    'WORKSPACE_CONFLICT',
    `A container named ${name} already exists on this node and was not made for workspace ${workspace} by this agent`,
    {
      provider: 'docker',
      hint: `Remove or rename it on the node (\`docker rm ${name}\`), or pick another workspace name.`,
    },
  );
}

function missing(id: string): never {
  throw new AgentError('WORKSPACE_MISSING', `The container ${id.slice(0, 12)} no longer exists`, {
    provider: 'docker',
    hint: 'It was removed outside Vendetta; remove the workspace (with force) and create it again.',
  });
}
