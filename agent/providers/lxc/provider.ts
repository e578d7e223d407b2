/** Workspaces as LXD (or Incus) system containers, through the REST API on the node's socket. */
import { AgentError } from '../../errors';
import { WORKSPACE_LABEL } from '../../protocol';
import {
  NodePortTakenError,
  signalOf,
  type CallOptions,
  type ExecOptions,
  type ExecResult,
  type ProviderCreateRequest,
  type ProviderWorkspace,
  type WorkspaceFile,
  type WorkspaceProvider,
} from '../contract';
import { instanceCreateBody, instanceName, lxdCalls, type FolderMapping } from './api';
import { isLxdFailure, LxdClient, LxdHttpError } from './client';
import { inspectOnCluster, wirePlacement } from './cluster';
import { envFilePath, splitEnv, withEnvFile } from './execEnv';
import { lxdExec, type ExecIdentity } from './exec';
import { folderMapping, nodeSideId } from './idmap';
import { progressText, resolveImage } from './image';
import { parseInstance, parseInstanceList, parseServerFacts, type LxdInstance, type LxdServerFacts } from './parse';
import { MemberRelays } from './relay';
import { conflict, lxcPart, lxcSpec, missing, takenNodePort } from './refusals';
import { journalArgv, sshdUnitFiles } from './systemd';
import { lackingSshd, pushFile, pushFiles } from './instanceFiles';

/** Seconds the instance's init gets to shut down before it is forced, unless its config says (STOP_GRACE_KEY). */
const STOP_GRACE_S = 10;
const ROOT: ExecIdentity = { uid: 0, gid: 0, home: '/root' };

export class LxcProvider implements WorkspaceProvider {
  readonly name = 'lxc' as const;
  /** A proxy device connects from inside the instance, to its own loopback: services need no relay. */
  readonly publishedPortsArrive = 'loopback' as const;
  private facts: Promise<LxdServerFacts> | undefined;
  /** Login users' ids per instance (an exec names its user by uid). */
  private readonly identities = new Map<string, ExecIdentity>();
  /** Node ports of instances on other cluster members, carried through LXD. */
  readonly relays: MemberRelays;

  constructor(
    readonly client: LxdClient,
    private readonly agentIds: { uid: number; gid: number } = {
      uid: process.getuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
    },
  ) {
    this.relays = new MemberRelays(client);
  }

  static forSocket(socketPath: string): LxcProvider {
    return new LxcProvider(new LxdClient(socketPath));
  }

  /** What the server says of itself (asked once per provider; a failed ask is asked again). */
  serverFacts(): Promise<LxdServerFacts> {
    this.facts ??= this.client.json(lxdCalls.server(), { timeoutMs: 15_000 }).then((r) => parseServerFacts(r.value));
    this.facts.catch(() => (this.facts = undefined));
    return this.facts;
  }

  /** How the project folder keeps its owners: id-shifted (idmapped mounts) or raw.idmap. */
  async folderMapping(): Promise<FolderMapping> {
    return folderMapping(await this.serverFacts(), this.agentIds);
  }

  async create(req: ProviderCreateRequest): Promise<ProviderWorkspace> {
    return this.guard(async () => {
      const lxc = lxcPart(req);
      const name = instanceName(req.spec.name);
      let id = req.adopt ? (await this.adoptable(req.adopt, req))?.providerId : undefined;
      if (!id) {
        const facts = await this.serverFacts();
        const source = await resolveImage(this.client, lxc.image);
        req.progress(
          source.mode === 'pull'
            ? `Creating the instance ${name}; LXD fetches ${lxc.image} from ${String(source.server)}`
            : `Creating the instance ${name} from ${lxc.image}`,
        );
        const body = instanceCreateBody({
          workspace: req.spec.name,
          lxc,
          source,
          nodeFolder: req.nodeFolder,
          workspaceFolder: req.spec.workspaceFolder,
          env: req.spec.env,
          labels: req.labels,
          sshNodePort: req.sshNodePort,
          ports: req.ports ?? [],
          mapping: await this.folderMapping(),
          // On a cluster the ports are wired once LXD has placed the instance (cluster.ts).
          ...(facts.clustered ? { relay: { sshd: [req.ssh.binary, '-i', '-e', '-f', req.ssh.configPath] } } : {}),
        });
        id = await this.createInstance(body, req, lxc.target);
        if (facts.clustered) await wirePlacement(this.client, id, facts.serverName);
      } else {
        req.progress(`Adopting the instance ${name} left by an earlier create`);
      }
      // The image's check and the pushes are separate LXD calls, made at once; a failed check wins
      // (the instance is removed once the pushes have ended, whatever they did).
      const [lacking, pushed] = await Promise.all([
        lackingSshd(this.client, id, req, (await this.serverFacts()).fileHead),
        pushFiles(this.client, id, [...req.seedFiles, ...sshdUnitFiles(req.ssh)], req).then(
          () => undefined,
          (err: unknown) => ({ err }),
        ),
      ]);
      if (lacking) {
        await this.remove(id);
        throw lacking;
      }
      if (pushed) throw pushed.err;
      return (await this.inspect(id)) ?? missing(id);
    });
  }

  private async createInstance(
    body: Record<string, unknown>,
    req: ProviderCreateRequest,
    target: string | undefined,
    retried = false,
  ): Promise<string> {
    const name = String(body.name);
    let said: string | undefined;
    // A download or unpack of the image says how far it got; each new figure is passed on.
    const onProgress = (metadata: Record<string, unknown>) => {
      const text = progressText(metadata);
      if (text && text !== said) req.progress(`Image ${lxcSpec(req.spec).lxc.image}: ${(said = text)}`);
    };
    try {
      await this.client.operation(
        lxdCalls.instanceCreate(body, target),
        600_000,
        { timeoutMs: 60_000, ...signalOf(req) },
        onProgress,
      );
      return name;
    } catch (err) {
      if (!isLxdFailure(err) || !/already exists/i.test(err.message)) throw err;
      // The name is taken. Ours (same workspace): adopt or replace it. Anyone else's: refuse.
      const holder = await this.inspect(name);
      if (holder?.name === req.spec.name && (await this.adoptable(holder.providerId, req))) return holder.providerId;
      if (holder?.name === req.spec.name && !retried) return this.createInstance(body, req, target, true); // adoptable() removed it
      throw conflict(name, req.spec.name);
    }
  }

  /** An earlier create's instance, if it matches this spec; one of ours that does not is replaced. */
  private async adoptable(ref: string, req: ProviderCreateRequest): Promise<ProviderWorkspace | undefined> {
    const found = await this.inspect(ref);
    if (!found) return undefined;
    const ours = Object.entries(req.labels).every(([k, v]) => found.labels[k] === undefined || found.labels[k] === v);
    if (!ours) throw conflict(ref, req.spec.name);
    if (
      found.name === req.spec.name &&
      found.image === lxcSpec(req.spec).lxc.image &&
      found.nodeFolder === req.nodeFolder
    )
      return found;
    req.progress(`Replacing the instance ${ref} left by an earlier create (it does not match the config)`);
    await this.remove(found.providerId);
    return undefined;
  }

  async start(id: string, opts: CallOptions = {}): Promise<ProviderWorkspace> {
    return this.guard(async () => {
      const done = await this.client
        .operation(lxdCalls.instanceState(id, { action: 'start' }), 120_000, signalOf(opts))
        .catch((err: unknown) => {
          const taken = isLxdFailure(err) ? takenNodePort(err.message) : undefined;
          if (taken !== undefined) throw new NodePortTakenError(taken, (err as Error).message, { cause: err });
          // Starting a running instance is a success.
          if (isLxdFailure(err) && /already running/i.test(err.message)) return {};
          throw err;
        });
      if (!done) missing(id);
      return (await this.inspect(id)) ?? missing(id);
    });
  }

  /**
   * A clean shutdown through the instance's init, then a forced one if it has not ended within
   * its grace (a service that hangs on stop, an init that ignores the signal).
   */
  async stop(id: string, opts: CallOptions = {}): Promise<void> {
    return this.guard(async () => {
      const grace = (await this.lookup(id, opts))?.stopGraceS ?? STOP_GRACE_S;
      try {
        const done = await this.client.operation(
          lxdCalls.instanceState(id, { action: 'stop', timeout: grace }),
          (grace + 30) * 1000,
          signalOf(opts),
        );
        if (!done) missing(id);
      } catch (err) {
        if (err instanceof AgentError) throw err;
        if (isLxdFailure(err) && /not running|already stopped/i.test(err.message)) return;
        await this.client.operation(lxdCalls.instanceState(id, { action: 'stop', force: true }), 60_000);
      } finally {
        this.relays.close(id);
      }
      this.relays.close(id);
    });
  }

  async remove(id: string, opts: CallOptions = {}): Promise<void> {
    return this.guard(async () => {
      const ws = await this.inspect(id, opts);
      if (!ws) return;
      if (ws.state === 'running' || ws.state === 'error')
        await this.client
          .operation(lxdCalls.instanceState(id, { action: 'stop', force: true }), 60_000)
          .catch(() => undefined);
      await this.client.operation(lxdCalls.instanceDelete(id), 120_000);
      this.relays.close(id);
      for (const k of this.identities.keys()) if (k.startsWith(`${id}\0`)) this.identities.delete(k);
    });
  }

  /** The instance as LXD has it now; undefined when there is none of that name. */
  private async lookup(id: string, opts: CallOptions): Promise<LxdInstance | undefined> {
    if ((await this.serverFacts()).clustered) return inspectOnCluster(this.client, id, opts);
    const r = await this.client.json(lxdCalls.instance(id), { timeoutMs: 15_000, ...signalOf(opts) });
    return r.status === 404 ? undefined : parseInstance((r.value as { metadata?: unknown } | undefined)?.metadata);
  }

  async inspect(id: string, opts: CallOptions = {}): Promise<ProviderWorkspace | undefined> {
    return this.guard(async () => {
      const facts = await this.serverFacts();
      const found = await this.lookup(id, opts);
      // Only our own: an instance without the workspace key is not a workspace.
      if (!found || found.labels[WORKSPACE_LABEL] === undefined) return undefined;
      const { relay, stopGraceS: _grace, ...ws } = found;
      // Running on another member: its node ports are ours to serve (relay.ts).
      if (relay && ws.member !== facts.serverName) {
        if (ws.state === 'running') await this.relays.ensure(ws.providerId, relay);
        else this.relays.close(ws.providerId);
      }
      // Ports published by hand are relayed on any member; a forward to one is the user's too.
      if (ws.publishedPorts) ws.publishedPorts = { ...this.relays.publishedPorts(ws.providerId), ...ws.publishedPorts };
      return ws;
    });
  }

  async list(opts: CallOptions = {}): Promise<ProviderWorkspace[]> {
    return this.guard(async () =>
      parseInstanceList((await this.client.json(lxdCalls.instances(), { timeoutMs: 15_000, ...signalOf(opts) })).value),
    );
  }

  /** A port opened by hand: relayed through LXD like a clustered instance's ports (relay.ts), on any member. */
  async publishPort(id: string, guestPort: number, opts: CallOptions = {}): Promise<number> {
    return this.guard(async () => {
      const ws = (await this.inspect(id, opts)) ?? missing(id);
      if (ws.state !== 'running')
        throw new AgentError('WORKSPACE_NOT_RUNNING', `The instance ${id} is not running`, {
          provider: 'lxc',
          hint: 'Start the workspace first.',
        });
      return this.relays.publish(id, guestPort);
    });
  }

  async putFiles(id: string, files: WorkspaceFile[], opts: CallOptions = {}): Promise<void> {
    return this.guard(() => pushFiles(this.client, id, files, opts));
  }

  async exec(id: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.guard(async () => {
      if (argv.length === 0) throw new Error('exec: empty argv');
      const who = await this.identity(id, opts.user);
      const { plain, file } = splitEnv(opts.env ?? {});
      if (file === undefined) return lxdExec(this.client, id, argv, who, opts);
      const path = envFilePath();
      await pushFile(
        this.client,
        id,
        { path, type: 'file', mode: 0o600, uid: who.uid, gid: who.gid, content: file },
        opts,
      );
      try {
        return await lxdExec(this.client, id, withEnvFile(path, argv), who, { ...opts, env: plain });
      } finally {
        // Sourced and removed by the command's shell; only an exec that never started leaves it.
        await this.client.send(lxdCalls.fileDelete(id, path), { timeoutMs: 15_000 }).catch(() => undefined);
      }
    });
  }

  /** The uid, gid and home of a user inside the instance (LXD's exec takes numbers). */
  private async identity(id: string, user: string | undefined): Promise<ExecIdentity> {
    if (user === undefined || user === 'root' || user === '0') return ROOT;
    const key = `${id}\0${user}`;
    const known = this.identities.get(key);
    if (known) return known;
    const r = await lxdExec(this.client, id, ['getent', 'passwd', user], ROOT, { timeoutMs: 15_000 });
    const fields = r.stdout.trim().split(':');
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (r.exitCode !== 0 || !Number.isInteger(uid) || !Number.isInteger(gid)) {
      throw new AgentError('PROVIDER_ERROR', `There is no user ${user} in the instance ${id}`, {
        provider: 'lxc',
        hint: 'The workspace login user is made at start; start the workspace again.',
      });
    }
    const who = { uid, gid, home: fields[5] || '/' };
    this.identities.set(key, who);
    return who;
  }

  /** Inside ids as the node sees them: the same with shift=true, else through the instance's idmap. */
  async nodeIds(
    id: string,
    inside: { uid: number; gid: number },
    opts: CallOptions = {},
  ): Promise<{ uid: number; gid: number }> {
    return this.guard(async () => {
      if ((await this.folderMapping()).kind === 'shift') return inside;
      const r = await this.client.json(lxdCalls.instance(id), { timeoutMs: 15_000, ...signalOf(opts) });
      if (r.status === 404) missing(id);
      const config = ((r.value as { metadata?: { config?: Record<string, string> } } | undefined)?.metadata?.config ??
        {}) as Record<string, string>;
      const idmap = config['volatile.idmap.current'] ?? config['volatile.idmap.next'];
      const uid = nodeSideId(idmap, inside.uid, 'uid');
      const gid = nodeSideId(idmap, inside.gid, 'gid');
      if (uid === undefined || gid === undefined) {
        throw new AgentError('PROVIDER_ERROR', `The instance ${id} maps no node ids to ${inside.uid}:${inside.gid}`, {
          provider: 'lxc',
          hint: 'Its idmap (volatile.idmap.current) does not cover the login user; use a login user with a lower uid.',
        });
      }
      return { uid, gid };
    });
  }

  async logs(id: string, lines: number, opts: CallOptions = {}): Promise<string> {
    return this.guard(async () => {
      const ws = await this.inspect(id, opts);
      if (ws?.state !== 'running') return '';
      const r = await lxdExec(this.client, id, journalArgv(lines), ROOT, { timeoutMs: 15_000, ...signalOf(opts) });
      return (r.stdout + r.stderr).trim();
    });
  }

  /** LXD's refusals become PROVIDER_ERROR with LXD's own words; a stopped instance is said as such. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof AgentError || err instanceof NodePortTakenError) throw err;
      if (err instanceof LxdHttpError && /not running/i.test(err.message)) {
        throw new AgentError('WORKSPACE_NOT_RUNNING', err.message, {
          provider: 'lxc',
          hint: 'Start the workspace first.',
          cause: err,
        });
      }
      if (isLxdFailure(err))
        throw new AgentError('PROVIDER_ERROR', err.message, {
          provider: 'lxc',
          hint: 'See the LXD log on the node (lxd.log in its folder) for details.',
          cause: err,
        });
      if (err instanceof Error && err.name === 'UnexpectedReply')
        throw new AgentError('PROVIDER_ERROR', err.message, { provider: 'lxc', cause: err });
      throw err;
    }
  }
}
