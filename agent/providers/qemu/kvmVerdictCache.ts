/**
 * The KVM probe's verdict, kept for the rest of the machine's boot: /run is emptied at each boot,
 * and what KVM can do does not change in between. Only root's agents keep it (/run is root's); a
 * verdict another user could write would let them choose every root agent's accelerator.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the probes found: KVM unusable (`broken`), usable but slower than emulation (`slow`), or neither. */
export interface KvmVerdict {
  broken?: string;
  slow?: string;
}

export const ROOT_VERDICT_DIR = '/run/vendetta-agent';

/** Where this process keeps verdicts: /run's folder for root, none for anyone else. */
export function verdictDir(): string | undefined {
  return process.getuid?.() === 0 ? ROOT_VERDICT_DIR : undefined;
}

const fileOf = (dir: string, binary: string) => join(dir, `kvm-${binary.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);

export function readVerdict(dir: string | undefined, binary: string): KvmVerdict | undefined {
  if (!dir) return undefined;
  try {
    const v = JSON.parse(readFileSync(fileOf(dir, binary), 'utf8')) as KvmVerdict;
    const ok = (x: unknown) => x === undefined || typeof x === 'string';
    return typeof v === 'object' && v !== null && ok(v.broken) && ok(v.slow) ? v : undefined;
  } catch {
    return undefined; // none yet, or torn: probe again
  }
}

export function writeVerdict(dir: string | undefined, binary: string, verdict: KvmVerdict): void {
  if (!dir) return;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const file = fileOf(dir, binary);
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify(verdict), { mode: 0o644 });
    renameSync(tmp, file);
  } catch {
    // a read-only /run: the next process probes again
  }
}
