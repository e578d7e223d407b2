/**
 * Which accelerator a VM gets. `auto` takes KVM only after KVM ran guest code here, and ran it no
 * slower than emulation: the probe guest (accelProbe.s) is booted by the firmware under `-accel
 * kvm` and under `-accel tcg`, and writes to QEMU's isa-debug-exit port (QEMU then exits with
 * (value << 1) | 1). An openable /dev/kvm is not enough: nested or half-set-up hosts open it and
 * then fail to run a guest, or run it so slowly (every page of guest memory a trap to the outer
 * hypervisor) that Linux does not get through its decompressor in minutes. The answer is kept
 * per process.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Accel } from './argv';
import { readVerdict, verdictDir, writeVerdict, type KvmVerdict } from './kvmVerdictCache';

export type { KvmVerdict };

export const KVM_DEVICE = '/dev/kvm';
const PROBE_PORT = 0xf4;
const PROBE_VALUE = 0x2a;
/** The exit status QEMU gives when the probe's guest code ran. */
export const PROBE_EXIT = (PROBE_VALUE << 1) | 1;
/** The probe writes up to 64 MiB; the guest gets a little more. */
const PROBE_MEMORY = '96M';
/** KVM slower than this many times the emulator's run of the same probe is not worth taking. */
export const KVM_SLOWER_LIMIT = 3;

/** accelProbe.s assembled (its code; the rest of the sector is zeros up to the boot signature). */
const PROBE_CODE =
  'fa31c08ed80f0116d87c0f20c06683c8010f22c0ea197c080066b810008ed88ec08ed0bf0010000031c0b9000c0000f3abc7' +
  '050010000003200000c7050020000003300000bf00300000b883000000b900020000890783c7080500002000e2f4b800100000' +
  '0f22d80f20e083c8200f22e0b9800000c00f320d000100000f300f20c00d000000800f22c0ea917c0000180048c7c700002000' +
  'c607014881c7001000004881ff0000000472edb02ae6f4f4ebfd660f1f4400000000000000000000ffff0000009acf00ffff00' +
  '000092cf00ffff0000009aaf001f00b87c';

export function probeBootSector(): Buffer {
  const b = Buffer.alloc(512);
  Buffer.from(PROBE_CODE, 'hex').copy(b, 0);
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
    PROBE_MEMORY,
    '-device',
    `isa-debug-exit,iobase=0x${PROBE_PORT.toString(16)},iosize=0x01`,
    '-drive',
    `file=${disk},format=raw,if=ide`,
  ];
}

export interface AccelChoice {
  accel: Accel;
  /** Why not KVM, when it is TCG; when it is KVM, why KVM may be slow here. */
  why?: string;
}

export type ProbeRun = { ok: true; ms: number } | { ok: false; why: string; timedOut?: true };

/** Runs the probe guest under `accel`: how long it took, or what went wrong. */
export async function probeAccel(binary: string, accel: Accel, timeoutMs = 20_000): Promise<ProbeRun> {
  const dir = mkdtempSync(join(tmpdir(), 'vendetta-accel-'));
  try {
    const disk = join(dir, 'probe.img');
    writeFileSync(disk, probeBootSector());
    const t0 = Date.now();
    return await new Promise<ProbeRun>((resolve) => {
      let err = '';
      const child = spawn(binary, probeArgv(accel, disk), { stdio: ['ignore', 'ignore', 'pipe'] });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve({
          ok: false,
          why: `a test guest under ${accel} did not finish within ${timeoutMs} ms`,
          timedOut: true,
        });
      }, timeoutMs);
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve({ ok: false, why: e.message });
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve(
          code === PROBE_EXIT
            ? { ok: true, ms: Date.now() - t0 }
            : {
                ok: false,
                why: `a test guest under ${accel} failed (exit ${code}): ${err.trim().split('\n').slice(-2).join(' ') || 'no output'}`,
              },
        );
      });
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Why KVM is not worth taking when it ran the probe in `kvmMs` (undefined: it did not finish in
 * that time) where emulation took `tcgMs`; undefined when it is.
 */
export function slowerThanEmulation(
  kvmMs: number,
  tcgMs: number,
  finished = true,
  limit = KVM_SLOWER_LIMIT,
): string | undefined {
  if (finished && kvmMs <= limit * tcgMs) return undefined;
  return (
    `KVM ${finished ? 'ran a test guest in' : 'did not finish a test guest within'} ${kvmMs} ms where software ` +
    `emulation took ${tcgMs} ms (nested virtualization without hardware paging, likely), so emulation is the ` +
    'faster one on this node'
  );
}

/** The least time KVM gets for the probe, whatever emulation took: QEMU's own start under KVM. */
const KVM_PROBE_FLOOR_MS = 2_000;

let kvmVerdict: Promise<KvmVerdict> | undefined;
/** The same, once it has answered. */
let kvmSettled: KvmVerdict | undefined;

/**
 * What is known of KVM here without running a guest: this process's verdict, or the one kept
 * for the boot; undefined when no QEMU workspace has started since the boot.
 */
export function knownKvmVerdict(binary: string, cacheDir = verdictDir()): KvmVerdict | undefined {
  return kvmSettled ?? readVerdict(cacheDir, binary);
}

/** KVM here, as the probes found it; probed once per process, or per boot where it is kept (kvmVerdictCache.ts). */
export function probeKvm(binary: string, device = KVM_DEVICE, cacheDir = verdictDir()): Promise<KvmVerdict> {
  try {
    accessSync(device, constants.R_OK | constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return Promise.resolve({
      broken:
        code === 'ENOENT'
          ? `${device} does not exist (no hardware virtualization, or the kvm module is not loaded)`
          : `${device} is not readable and writable by this user (add it to the kvm group)`,
    });
  }
  kvmVerdict ??= (async () => {
    const kept = readVerdict(cacheDir, binary);
    if (kept) return (kvmSettled = kept);
    const verdict = await runProbes(binary);
    writeVerdict(cacheDir, binary, verdict);
    kvmSettled = verdict;
    return verdict;
  })();
  return kvmVerdict;
}

async function runProbes(binary: string): Promise<KvmVerdict> {
  // Emulation first: KVM then gets only as long as is worth waiting for, not the whole timeout.
  const tcg = await probeAccel(binary, 'tcg');
  if (!tcg.ok) {
    // An emulator that cannot run the probe says nothing about KVM's speed.
    const kvm = await probeAccel(binary, 'kvm');
    return kvm.ok ? {} : { broken: kvm.why };
  }
  const bound = Math.max(KVM_SLOWER_LIMIT * tcg.ms, KVM_PROBE_FLOOR_MS);
  const kvm = await probeAccel(binary, 'kvm', bound);
  if (kvm.ok) return { slow: slowerThanEmulation(kvm.ms, tcg.ms) };
  return kvm.timedOut ? { slow: slowerThanEmulation(bound, tcg.ms, false) } : { broken: kvm.why };
}

export async function chooseAccel(wanted: 'auto' | Accel, binary: string): Promise<AccelChoice | { error: string }> {
  if (wanted === 'tcg') return { accel: 'tcg', why: 'the config asks for tcg' };
  const { broken, slow } = await probeKvm(binary);
  if (broken)
    return wanted === 'kvm' ? { error: `KVM is not usable on this node: ${broken}` } : { accel: 'tcg', why: broken };
  // Asked for by name, a slow KVM is still the user's choice.
  if (slow) return wanted === 'auto' ? { accel: 'tcg', why: slow } : { accel: 'kvm', why: slow };
  return { accel: 'kvm' };
}

/** The line `up` shows. */
export function accelMessage(c: AccelChoice): string {
  if (c.accel === 'kvm' && c.why) return `QEMU uses KVM (hardware virtualization), as the config asks, though ${c.why}`;
  return c.accel === 'kvm'
    ? 'QEMU uses KVM (hardware virtualization)'
    : `QEMU uses TCG, software emulation, about 10× slower than KVM: ${c.why ?? 'KVM is not available'}`;
}
