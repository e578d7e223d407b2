/**
 * The command lines the QEMU provider runs, as pure functions of a VM's record: the emulator
 * (daemonized, QMP on a Unix socket, the serial console to a file, user-mode networking with
 * hostfwd on the node's 127.0.0.1, the project folder shared over 9p) and qemu-img.
 */
import { join } from 'node:path';
import { CONTROL_GUEST_PORT } from './seed';

export type Accel = 'kvm' | 'tcg';

export interface VmPorts {
  /** Node port of the workspace's SSH server (guest 22). */
  ssh: number;
  /** Node port of the agent's control SSH server. */
  control: number;
  services: Array<{ guestPort: number; nodePort: number }>;
}

export interface VmBoot {
  cpus: number;
  memoryMiB: number;
  kernel?: string;
  initrd?: string;
  append?: string;
}

/** Files of one VM inside its folder. */
export function vmFiles(dir: string): {
  record: string;
  disk: string;
  seed: string;
  qmp: string;
  pid: string;
  console: string;
  stderr: string;
  controlKey: string;
  pending: string;
  guestCopy: string;
} {
  return {
    record: join(dir, 'vm.json'),
    disk: join(dir, 'disk.qcow2'),
    seed: join(dir, 'seed.iso'),
    qmp: join(dir, 'qmp.sock'),
    pid: join(dir, 'qemu.pid'),
    guestCopy: join(dir, 'guest-copy.json'),
    console: join(dir, 'console.log'),
    stderr: join(dir, 'qemu.err'),
    controlKey: join(dir, 'control_key'),
    pending: join(dir, 'pending.json'),
  };
}

/** The 9p mount tag under which the guest finds the project folder. */
export const PROJECT_TAG = 'vendetta-project';

/** QEMU splits option values at commas; a literal comma is written twice. */
export function optValue(s: string): string {
  return s.replace(/,/g, ',,');
}

export function hostfwds(ports: VmPorts): string[] {
  const fwd = (node: number, guest: number): string => `hostfwd=tcp:127.0.0.1:${node}-:${guest}`;
  return [
    fwd(ports.ssh, 22),
    fwd(ports.control, CONTROL_GUEST_PORT),
    ...ports.services.map((p) => fwd(p.nodePort, p.guestPort)),
  ];
}

export interface EmulatorArgs {
  dir: string;
  name: string;
  accel: Accel;
  boot: VmBoot;
  ports: VmPorts;
  /** The node folder shared over 9p; absent: the project is copied into the guest over SSH. */
  nodeFolder?: string;
}

export function emulatorArgv(a: EmulatorArgs): string[] {
  const f = vmFiles(a.dir);
  return [
    '-name',
    optValue(`vendetta-${a.name}`),
    '-accel',
    a.accel,
    // KVM can give the guest the host's CPU; TCG emulates QEMU's default model.
    ...(a.accel === 'kvm' ? ['-cpu', 'host'] : []),
    '-smp',
    String(a.boot.cpus),
    '-m',
    `${a.boot.memoryMiB}M`,
    '-nodefaults',
    '-display',
    'none',
    '-daemonize',
    '-pidfile',
    f.pid,
    '-serial',
    `file:${f.console}`,
    '-qmp',
    `unix:${optValue(f.qmp)},server=on,wait=off`,
    '-drive',
    `file=${optValue(f.disk)},if=virtio,format=qcow2`,
    '-drive',
    `file=${optValue(f.seed)},if=virtio,format=raw,readonly=on`,
    '-nic',
    ['user', 'model=virtio-net-pci', ...hostfwds(a.ports)].join(','),
    ...(a.nodeFolder !== undefined
      ? ['-virtfs', `local,path=${optValue(a.nodeFolder)},mount_tag=${PROJECT_TAG},security_model=none,id=project`]
      : []),
    ...(a.boot.kernel ? ['-kernel', a.boot.kernel] : []),
    ...(a.boot.initrd ? ['-initrd', a.boot.initrd] : []),
    ...(a.boot.append !== undefined && a.boot.kernel ? ['-append', a.boot.append] : []),
  ];
}

/** The workspace's disk: a qcow2 overlay on the base image, grown to `sizeBytes` when larger. */
export function overlayArgv(base: { path: string; format: string }, disk: string, sizeBytes?: number): string[] {
  return ['create', '-f', 'qcow2', '-F', base.format, '-b', base.path, disk, ...(sizeBytes ? [String(sizeBytes)] : [])];
}

/**
 * Which hostfwd rule QEMU refused: `Could not set up host forwarding rule 'tcp:127.0.0.1:4022-:22'`
 * → 4022. QEMU says so and exits when the node port is taken.
 */
export function refusedForwardPort(stderr: string): number | undefined {
  const m = /host forwarding rule 'tcp:127\.0\.0\.1:(\d+)-/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}
