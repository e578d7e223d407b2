/** QEMU: `qemu-system-<arch> --version`, and whether /dev/kvm is usable. */
import type { QemuStatus } from '../../protocol';
import type { ProbeOutcome, ProbeRunner } from '../contract';
import { KVM_DEVICE, knownKvmVerdict, type KvmVerdict } from './accel';

/** Node's os.arch() → QEMU's system emulator suffix. */
const qemuArch: Record<string, string> = {
  x64: 'x86_64',
  arm64: 'aarch64',
  ia32: 'i386',
  arm: 'arm',
  ppc64: 'ppc64',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loongarch64',
};

/** Debian's package for each emulator, for the install hint. */
const debianPackage: Record<string, string> = {
  x86_64: 'qemu-system-x86',
  i386: 'qemu-system-x86',
  aarch64: 'qemu-system-arm',
  arm: 'qemu-system-arm',
  ppc64: 'qemu-system-ppc',
  s390x: 'qemu-system-misc',
  riscv64: 'qemu-system-misc',
};

export function qemuBinary(nodeArch: string): string {
  return `qemu-system-${qemuArch[nodeArch] ?? nodeArch}`;
}

/** `QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)` → 7.2.22. */
export function parseQemuVersion(stdout: string): string | undefined {
  return /QEMU emulator version (\d+\.\d+(?:\.\d+)?)/.exec(stdout)?.[1];
}

export function qemuStatusFrom(
  binary: string,
  version: ProbeOutcome,
  kvm: ProbeOutcome,
  timeoutMs: number,
): QemuStatus {
  const kvmPart = kvm.ok ? { kvm: true } : { kvm: false, kvmError: kvmWhy(kvm) };
  if (!version.ok) {
    const pkg = debianPackage[binary.slice('qemu-system-'.length)] ?? 'qemu-system';
    if (version.code === 'ENOENT') {
      return {
        available: false,
        binary,
        ...kvmPart,
        error: `${binary} is not installed (not found on PATH)`,
        hint: `Install QEMU (e.g. \`apt-get install ${pkg}\`).`,
      };
    }
    const why =
      version.code === 'ETIMEDOUT' ? `did not answer within ${timeoutMs / 1000} s` : `failed: ${version.message}`;
    return { available: false, binary, ...kvmPart, error: `\`${binary} --version\` ${why}` };
  }
  const parsed = parseQemuVersion(version.body);
  if (!parsed)
    return { available: false, binary, ...kvmPart, error: `\`${binary} --version\` printed no QEMU version` };
  return { available: true, version: parsed, binary, ...kvmPart };
}

function kvmWhy(outcome: Extract<ProbeOutcome, { ok: false }>): string {
  switch (outcome.code) {
    case 'ENOENT':
      return `${KVM_DEVICE} does not exist (no hardware virtualization, or the kvm module is not loaded); VMs run without acceleration`;
    case 'EACCES':
    case 'EPERM':
      return `${KVM_DEVICE} is not readable and writable by this user: add it to the kvm group (\`usermod -aG kvm USER\`)`;
    case 'KVM_PROBE':
      return `${outcome.message}; VMs run under TCG unless qemu.accel says kvm`;
    default:
      return `${KVM_DEVICE} is not usable: ${outcome.message}`;
  }
}

export async function detectQemu(
  nodeArch: string,
  runner: ProbeRunner,
  timeoutMs: number,
  known: (binary: string) => KvmVerdict | undefined = knownKvmVerdict,
): Promise<QemuStatus> {
  const binary = qemuBinary(nodeArch);
  const [version, access] = await Promise.all([
    runner.run({ kind: 'exec', file: binary, args: ['--version'] }, timeoutMs),
    runner.run({ kind: 'access', path: KVM_DEVICE, mode: 'rw' }, timeoutMs),
  ]);
  return qemuStatusFrom(binary, version, version.ok && access.ok ? kvmAsKnown(known(binary)) : access, timeoutMs);
}

/**
 * A usable /dev/kvm is said not to be KVM once the accelerator probe (accel.ts) found KVM broken
 * or slower than emulation: by this agent, or by any of root's since the boot. The probe itself
 * runs at a QEMU workspace's start, not here: a status must not boot guests.
 */
function kvmAsKnown(verdict: KvmVerdict | undefined): ProbeOutcome {
  const why = verdict?.broken ?? verdict?.slow;
  return why ? { ok: false, code: 'KVM_PROBE', message: why } : { ok: true, status: 0, body: '' };
}
