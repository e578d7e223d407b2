/**
 * Workspaces as QEMU VMs on the node: a qcow2 overlay per workspace on the configured base
 * image, a cloud-init NoCloud seed (hostname, the workspace's host key, the agent's control
 * login), user-mode networking with hostfwd on 127.0.0.1 for SSH and each service port, QMP on a
 * Unix socket for status and stop, the project folder shared over 9p or, for a guest without 9p,
 * copied in over SSH (guestCopy.ts). Exec and services run over
 * one held SSH connection per VM (guestSsh.ts). A VM is its folder (vmStore.ts): it outlives the
 * agent, which finds it again by pid file and QMP.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KeyedMutex } from '../../../common/async/keyedMutex';
import { AgentError } from '../../errors';
import type {
  QemuSettings,
  QemuWorkspaceSpec,
  SyncReadResult,
  SyncScanChange,
  SyncScanEntry,
  WorkspaceSpec,
} from '../../protocol';
import { nodePortProbe } from '../../services/ports';
import { generateHostKey } from '../../workspaces/hostKey';
import {
  NodePortTakenError,
  type CallOptions,
  type ExecOptions,
  type StartOptions,
  type ExecResult,
  type ProviderCreateRequest,
  type ProviderWorkspace,
  type WorkspaceFile,
  type WorkspaceProvider,
} from '../contract';
import { specFor } from '../specFor';
import { accelMessage, chooseAccel } from './accel';
import { ImageCache, isImageUrl } from './imageDownload';
import { emulatorArgv, refusedForwardPort, type VmPorts } from './argv';
import { waitForBoot } from './bootWait';
import { consoleTail } from './console';
import { GuestCopies } from './guestCopy';
import { GuestConnection } from './guestSsh';
import { putGuestFiles, setUpGuest } from './guestSetup';
import { hostKeyOf, readPending, writePending } from './pendingFiles';
import { createOverlay } from './qemuImg';
import { CONTROL_GUEST_PORT, seedImage } from './seed';
import { publishGuestPort } from './hostForward';
import { missing, requireFile, stopIfCancelled } from './refusals';
import { endVm, launch, livePid, vmNodeUsage } from './vmProcess';
import { inspectVm } from './vmInspect';
import { VmStore, type VmRecord } from './vmStore';
import type { VmNodeUsage } from '../../workspaces/hostUsage';

const MiB = 1024 * 1024;
/** Seconds the guest gets to power off on stop before QEMU is told to quit. */
const STOP_GRACE_MS = 60_000;

export interface QemuProviderOptions {
  /** `<agent home>/qemu`. */
  root: string;
  binary: string;
  /** How long a boot may take until the control SSH answers (TCG boots are slow). */
  bootTimeoutMs?: { kvm: number; tcg: number };
  /** Where base images named by URL are kept (default `<agent home>/qemu-images`). */
  imageCacheDir?: string;
}

export class QemuProvider implements WorkspaceProvider {
  readonly name = 'qemu' as const;
  /** hostfwd connects to the guest's own address (10.0.2.15), as Docker's proxy does. */
  readonly publishedPortsArrive = 'address' as const;
  readonly agentOnlyPorts = [CONTROL_GUEST_PORT];
  readonly store: VmStore;
  readonly images: ImageCache;
  private readonly connections = new Map<string, GuestConnection>();
  private readonly lock = new KeyedMutex();
  private readonly copies: GuestCopies;

  constructor(readonly opts: QemuProviderOptions) {
    this.store = new VmStore(opts.root);
    this.images = new ImageCache(opts.imageCacheDir ?? join(dirname(opts.root), 'qemu-images'));
    this.copies = new GuestCopies(this.store, (rec) => this.connection(rec));
  }

  async create(req: ProviderCreateRequest): Promise<ProviderWorkspace> {
    const spec = qemuSpec(req.spec);
    const q = spec.qemu;
    if (!q.image) throw new AgentError('INVALID_PARAMS', 'A qemu workspace needs qemu.image', { provider: 'qemu' });
    if (req.adopt) {
      const found = this.store.read(req.adopt);
      if (found && found.name === spec.name && found.image === q.image && found.nodeFolder === req.nodeFolder) {
        req.progress(`Adopting the VM ${found.id} left by an earlier create`);
        return (await this.inspect(found.id)) ?? missing(found.id);
      }
      if (found && found.name === spec.name) await this.remove(found.id);
    }
    const base = isImageUrl(q.image) ? await this.images.ensure(q.image, q.imageSha256, req.progress) : q.image;
    requireFile(base, 'the base image (qemu.image)');
    for (const [what, path] of [
      ['qemu.kernel', q.kernel],
      ['qemu.initrd', q.initrd],
    ] as const)
      if (path) requireFile(path, what);
    const id = `${spec.name.slice(0, 40)}-${randomBytes(4).toString('hex')}`;
    const dir = this.store.ensureDir(id);
    const files = this.store.files(id);
    if (Buffer.byteLength(files.qmp) > 107) {
      rmSync(dir, { recursive: true, force: true });
      throw new AgentError('INVALID_PARAMS', `The VM's QMP socket path is too long for a Unix socket: ${files.qmp}`, {
        provider: 'qemu',
        hint: 'Give the agent a shorter home folder (VENDETTA_AGENT_HOME).',
      });
    }
    try {
      const hostKey = hostKeyOf(req.seedFiles, req.ssh.configPath);
      const control = generateHostKey(`vendetta-control-${spec.name}`);
      writeFileSync(files.controlKey, control.privateKeyPem, { mode: 0o600 });
      req.progress(`Creating the VM's disk: a qcow2 overlay on ${base}`);
      await createOverlay(base, files.disk, q.diskBytes);
      writeFileSync(
        files.seed,
        seedImage({ instanceId: id, hostname: spec.name, hostKey, controlPublicKey: control.publicKey }),
        { mode: 0o600 },
      );
      writePending(files.pending, req.seedFiles);
      const ports: VmPorts = {
        ssh: req.sshNodePort,
        control: await nodePortProbe.anyFree(),
        services: req.ports ?? [],
      };
      const rec: VmRecord = {
        v: 1,
        id,
        name: spec.name,
        labels: { ...req.labels, 'dev.vendetta.workspace': spec.name },
        image: q.image,
        createdAt: new Date().toISOString(),
        wanted: 'stopped',
        accel: q.accel ?? 'auto',
        boot: bootOf(q),
        ports,
        nodeFolder: req.nodeFolder,
        workspaceFolder: spec.workspaceFolder,
        projectShare: q.projectShare ?? 'auto',
        hostPublicKey: hostKey.publicKey,
        ssh: { binary: req.ssh.binary, configPath: req.ssh.configPath },
      };
      this.store.write(rec);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return (await this.inspect(id)) ?? missing(id);
  }

  async start(id: string, opts: StartOptions = {}): Promise<ProviderWorkspace> {
    return this.lock.run(id, async () => {
      const rec = this.store.read(id) ?? missing(id);
      const files = this.store.files(id);
      if (livePid(files.pid, files.qmp) !== undefined) {
        const now = await this.inspect(id);
        if (now?.state === 'running') return now;
        await endVm(files.pid, files.qmp, 0);
      }
      const progress = opts.progress ?? (() => undefined);
      const choice = await chooseAccel(rec.accel, this.opts.binary);
      if ('error' in choice)
        throw new AgentError('PROVIDER_ERROR', choice.error, {
          provider: 'qemu',
          hint: 'Use qemu.accel: auto (or tcg) to run without KVM, or make /dev/kvm usable on the node.',
        });
      progress(accelMessage(choice));
      // The agent's own ports move when something else took them; the services' ports are the user's and are reported.
      const ports = { ...rec.ports };
      if (!(await nodePortProbe.isFree(ports.ssh))) ports.ssh = await nodePortProbe.anyFree();
      if (!(await nodePortProbe.isFree(ports.control))) ports.control = await nodePortProbe.anyFree();
      for (const f of [files.pid, files.qmp]) rmSync(f, { force: true });
      writeFileSync(files.console, '');
      const argv = emulatorArgv({
        dir: this.store.dir(id),
        name: rec.name,
        accel: choice.accel,
        boot: rec.boot,
        ports,
        // Shared unless the guest is known to have, or asked to get, a copy instead.
        ...(rec.share !== 'ssh' && rec.projectShare !== 'ssh' ? { nodeFolder: rec.nodeFolder } : {}),
      });
      const launched = await launch(this.opts.binary, argv, files.stderr);
      if (launched.code !== 0) {
        const said = launched.stderr.trim();
        const port = refusedForwardPort(said);
        if (port !== undefined)
          throw new NodePortTakenError(port, `QEMU could not listen on 127.0.0.1:${port}: ${said}`);
        throw new AgentError(
          'PROVIDER_ERROR',
          `QEMU did not start the VM of workspace ${rec.name} (exit ${launched.code})`,
          { provider: 'qemu', hint: said.slice(0, 600) || 'QEMU gave no reason.' },
        );
      }
      const started =
        this.store.update(id, {
          ports,
          wanted: 'running',
          startedAt: new Date().toISOString(),
          lastError: undefined,
        }) ?? missing(id);
      // Until set up, a sync reads and writes the node folder only (see guestCopy.ts).
      this.copies.starting.add(id);
      try {
        await waitForBoot({
          name: rec.name,
          files,
          port: started.ports.control,
          conn: this.connection(started),
          limitMs: (this.opts.bootTimeoutMs ?? { kvm: 180_000, tcg: 600_000 })[choice.accel],
          progress,
          failed: (why) => this.store.update(id, { wanted: 'stopped', ...(why ? { lastError: why } : {}) }),
          signal: opts.signal,
        });
        const conn = this.connection(started);
        const pending = readPending(files.pending);
        progress('Setting up the VM: project folder, SSH server');
        const share = await setUpGuest(conn, {
          pending,
          workspaceFolder: rec.workspaceFolder,
          ssh: rec.ssh,
          share: rec.share ?? rec.projectShare ?? 'auto',
          progress,
        });
        rmSync(files.pending, { force: true });
        const now = share === rec.share ? started : (this.store.update(id, { share }) ?? missing(id));
        if (share === 'ssh') await this.copies.push(now, progress);
      } finally {
        this.copies.starting.delete(id);
      }
      return (await this.inspect(id)) ?? missing(id);
    });
  }

  private connection(rec: VmRecord): GuestConnection {
    const held = this.connections.get(rec.id);
    if (held && held.port === rec.ports.control) return held;
    held?.close();
    const conn = new GuestConnection({
      port: rec.ports.control,
      privateKey: readFileSync(this.store.files(rec.id).controlKey, 'utf8'),
      hostPublicKey: rec.hostPublicKey,
    });
    this.connections.set(rec.id, conn);
    return conn;
  }

  private drop(id: string): void {
    this.connections.get(id)?.close();
    this.connections.delete(id);
  }

  async stop(id: string, opts: CallOptions = {}): Promise<void> {
    return this.lock.run(id, async () => {
      stopIfCancelled(opts.signal, `The stop of the VM ${id}`);
      if (!this.store.update(id, { wanted: 'stopped' })) missing(id);
      const files = this.store.files(id);
      this.drop(id);
      await endVm(files.pid, files.qmp, STOP_GRACE_MS, opts.signal);
    });
  }

  async remove(id: string, opts: CallOptions = {}): Promise<void> {
    return this.lock.run(id, async () => {
      stopIfCancelled(opts.signal, `The removal of the VM ${id}`);
      const files = this.store.files(id);
      this.drop(id);
      if (existsSync(this.store.dir(id))) await endVm(files.pid, files.qmp, 0);
      rmSync(this.store.dir(id), { recursive: true, force: true });
    });
  }

  /** The VM's QEMU process: what the VM really got of the node's CPU. */
  nodeUsage(id: string): Promise<VmNodeUsage | undefined> {
    const files = this.store.files(id);
    return vmNodeUsage(files.pid, files.qmp);
  }

  inspect(id: string, opts: CallOptions = {}): Promise<ProviderWorkspace | undefined> {
    return inspectVm(this.store, id, opts.signal);
  }

  async list(opts: CallOptions = {}): Promise<ProviderWorkspace[]> {
    const out: ProviderWorkspace[] = [];
    for (const id of this.store.ids()) {
      const ws = await this.inspect(id, opts);
      if (ws) out.push(ws);
    }
    return out;
  }

  async putFiles(id: string, files: WorkspaceFile[], opts: CallOptions = {}): Promise<void> {
    const rec = this.store.read(id) ?? missing(id);
    const ws = await this.inspect(id, opts);
    if (ws?.state === 'running') return putGuestFiles(this.connection(rec), files, opts.signal);
    // Off: queued, and put in by the next boot before the SSH server starts.
    const f = this.store.files(id);
    writePending(f.pending, [...readPending(f.pending), ...files]);
  }

  /** The guest's copy when the project is not shared over 9p; undefined: the node folder is the workspace's. */
  syncScan(id: string, entries: readonly SyncScanEntry[]): Promise<SyncScanChange[] | undefined> {
    return this.copies.scan(id, entries);
  }

  syncRead(id: string, path: string): Promise<SyncReadResult | undefined> {
    return this.copies.read(id, path);
  }

  syncReceived(id: string, paths: readonly string[], owner?: { uid: number; gid: number }): Promise<void> {
    return this.copies.received(id, paths, owner);
  }

  async exec(id: string, argv: string[], opts?: ExecOptions): Promise<ExecResult> {
    return this.connection(this.running(id)).exec(argv, opts);
  }

  async publishPort(id: string, guestPort: number, opts: CallOptions = {}): Promise<number> {
    this.running(id);
    return publishGuestPort(this.store.files(id).qmp, guestPort, nodePortProbe, opts.signal);
  }

  private running(id: string) {
    const rec = this.store.read(id) ?? missing(id);
    const files = this.store.files(id);
    if (livePid(files.pid, files.qmp) === undefined)
      throw new AgentError('WORKSPACE_NOT_RUNNING', `The VM of workspace ${rec.name} is not running`, {
        provider: 'qemu',
        hint: 'Start the workspace first.',
      });
    return rec;
  }

  async logs(id: string, lines: number, opts: CallOptions = {}): Promise<string> {
    stopIfCancelled(opts.signal, `Reading the console of the VM ${id}`);
    if (!this.store.read(id)) return '';
    return consoleTail(this.store.files(id).console, lines);
  }

  /** Closes the held connections (the VMs keep running). */
  close(): void {
    for (const id of [...this.connections.keys()]) this.drop(id);
  }
}

function bootOf(q: QemuSettings): VmRecord['boot'] {
  return {
    cpus: q.cpus ?? 2,
    memoryMiB: Math.max(128, Math.round((q.memoryBytes ?? 2048 * MiB) / MiB)),
    ...(q.kernel ? { kernel: q.kernel } : {}),
    ...(q.initrd ? { initrd: q.initrd } : {}),
    ...(q.append !== undefined ? { append: q.append } : {}),
  };
}

const qemuSpec = (spec: WorkspaceSpec): QemuWorkspaceSpec => specFor('qemu', spec);
