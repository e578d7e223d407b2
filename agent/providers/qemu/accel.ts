/**
 * Which accelerator a VM gets. `auto` takes KVM only after KVM ran guest code here: a 512-byte
 * boot sector that writes to QEMU's isa-debug-exit port (QEMU then exits with (value << 1) | 1),
 * booted by the firmware under `-accel kvm`. An openable /dev/kvm is not enough: nested or
 * half-set-up hosts open it and then fail to run a guest. The answer is kept per process.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Accel } from './argv';

export const KVM_DEVICE = '/dev/kvm';
const PROBE_PORT = 0xf4;
const PROBE_VALUE = 0x2a;
/** The exit status QEMU gives when the probe's guest code ran. */
export const PROBE_EXIT = (PROBE_VALUE << 1) | 1;

/** mov al, 0x2a; out 0xf4, al; hlt; jmp $-1 — then the boot signature. */
export function probeBootSector(): Buffer {
  const b = Buffer.alloc(512);
  Buffer.from([0xb0, PROBE_VALUE, 0xe6, PROBE_PORT, 0xf4, 0xeb, 0xfd]).copy(b, 0);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b;
}

export function probeArgv(accel: Accel, disk: string): string[] {
  return [
    '-accel',
    accel,
    '-nodefaults',
    '-display',
    'none',
    '-no-user-config',
    '-m',
    '16M',
    '-device',
    `isa-debug-exit,iobase=0x${PROBE_PORT.toString(16)},iosize=0x01`,
    '-drive',
    `file=${disk},format=raw,if=ide`,
  ];
}

export interface AccelChoice {
  accel: Accel;
  /** Why not KVM, when it is TCG. */
  why?: string;
}

/** Runs the probe guest under `accel`; undefined when it ran, else what went wrong. */
export async function probeAccel(binary: string, accel: Accel, timeoutMs = 20_000): Promise<string | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'vendetta-accel-'));
  try {
    const disk = join(dir, 'probe.img');
    writeFileSync(disk, probeBootSector());
    return await new Promise<string | undefined>((resolve) => {
      let err = '';
      const child = spawn(binary, probeArgv(accel, disk), { stdio: ['ignore', 'ignore', 'pipe'] });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(`a test guest under ${accel} did not finish within ${timeoutMs / 1000} s`);
      }, timeoutMs);
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve(e.message);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve(
          code === PROBE_EXIT
            ? undefined
            : `a test guest under ${accel} failed (exit ${code}): ${err.trim().split('\n').slice(-2).join(' ') || 'no output'}`,
        );
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let kvmVerdict: Promise<string | undefined> | undefined;

/** Why KVM cannot be used here (undefined: it can); probed once per process. */
export function kvmUnusable(binary: string, device = KVM_DEVICE): Promise<string | undefined> {
  try {
    accessSync(device, constants.R_OK | constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return Promise.resolve(
      code === 'ENOENT'
        ? `${device} does not exist (no hardware virtualization, or the kvm module is not loaded)`
        : `${device} is not readable and writable by this user (add it to the kvm group)`,
    );
  }
  kvmVerdict ??= probeAccel(binary, 'kvm');
  return kvmVerdict;
}

export async function chooseAccel(wanted: 'auto' | Accel, binary: string): Promise<AccelChoice | { error: string }> {
  if (wanted === 'tcg') return { accel: 'tcg', why: 'the config asks for tcg' };
  const why = await kvmUnusable(binary);
  if (!why) return { accel: 'kvm' };
  if (wanted === 'kvm') return { error: `KVM is not usable on this node: ${why}` };
  return { accel: 'tcg', why };
}

/** The line `up` shows. */
export function accelMessage(c: AccelChoice): string {
  return c.accel === 'kvm'
    ? 'QEMU uses KVM (hardware virtualization)'
    : `QEMU uses TCG, software emulation, about 10× slower than KVM: ${c.why ?? 'KVM is not available'}`;
}
