/**
 * Where the QEMU provider keeps its VMs: one folder per VM under `<agent home>/qemu/<id>`, holding
 * the overlay disk, the seed, the QMP socket, the pid file, the console log and `vm.json` (what
 * the VM was made from and what vendetta last asked of it). The folder is the VM: list() reads
 * the folders, and an agent that restarts finds its VMs again from them (pid file + QMP).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomicSync } from '../../../common/fs/atomicWrite';
import type { VmBoot, VmPorts } from './argv';
import { vmFiles } from './argv';

export interface VmRecord {
  v: 1;
  id: string;
  /** The workspace's name (the `dev.vendetta.workspace` label). */
  name: string;
  labels: Record<string, string>;
  /** The base image as the config names it. */
  image: string;
  createdAt: string;
  startedAt?: string;
  /** What vendetta last asked: a VM gone while `running` was wanted died. */
  wanted: 'running' | 'stopped';
  accel: 'auto' | 'kvm' | 'tcg';
  boot: VmBoot;
  ports: VmPorts;
  nodeFolder: string;
  workspaceFolder: string;
  /** How the project reaches the guest, as the config asks (absent: `auto`, a VM made before the choice existed). */
  projectShare?: 'auto' | '9p' | 'ssh';
  /** How it does, decided at the first boot that set the guest up. */
  share?: '9p' | 'ssh';
  /** Who owns the project's copy in the guest (the login user's ids there), once the agent knows. */
  guestOwner?: { uid: number; gid: number };
  /** The workspace's host key (`ssh-ed25519 AAAA…`): the only one the control connection accepts. */
  hostPublicKey: string;
  /** The workspace's SSH server, run by the guest's init. */
  ssh: { binary: string; configPath: string };
  /** How the last boot ended, when vendetta did not end it. */
  lastError?: string;
}

export class VmStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  files(id: string): ReturnType<typeof vmFiles> {
    return vmFiles(this.dir(id));
  }

  ensureDir(id: string): string {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const d = this.dir(id);
    mkdirSync(d, { recursive: true, mode: 0o700 });
    return d;
  }

  read(id: string): VmRecord | undefined {
    if (!/^[a-z0-9][a-z0-9-]{0,80}$/.test(id)) return undefined;
    try {
      const v = JSON.parse(readFileSync(this.files(id).record, 'utf8')) as VmRecord;
      return v && v.v === 1 && v.id === id ? v : undefined;
    } catch {
      return undefined;
    }
  }

  write(rec: VmRecord): void {
    writeJsonAtomicSync(this.files(rec.id).record, rec, { mode: 0o600 });
  }

  update(id: string, change: Partial<VmRecord>): VmRecord | undefined {
    const rec = this.read(id);
    if (!rec) return undefined;
    const next = { ...rec, ...change };
    this.write(next);
    return next;
  }

  ids(): string[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root).filter((id) => this.read(id) !== undefined);
  }
}
