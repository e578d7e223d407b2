/**
 * The QEMU test guest: Debian bookworm with cloud-init (NoCloud), OpenSSH and a kernel, built
 * offline by scripts/image/build-qemu-guest.mjs (~2-3 min cold, cached per recipe under
 * ~/.cache/vendetta/images), booted by direct kernel boot. Shared by the tests and the bench.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BUILD_SCRIPT = join(__dirname, '../../scripts/image/build-qemu-guest.mjs');

export interface QemuGuest {
  dir: string;
  /** The base disk (qcow2) each workspace gets an overlay on. */
  image: string;
  kernel: string;
  initrd: string;
  /** The kernel command line this guest needs. */
  append: string;
  built: boolean;
  buildMs: number;
}

let cached: Promise<QemuGuest> | undefined;

/** The guest, built once per machine (a lock keeps concurrent runs from building twice). */
export function ensureQemuGuest(): Promise<QemuGuest> {
  cached ??= new Promise<QemuGuest>((resolve, reject) => {
    const child = spawn(process.execPath, [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`building the QEMU test guest failed (exit ${code}):\n${err.trim()}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as QemuGuest);
      } catch (e) {
        reject(e as Error);
      }
    });
  });
  return cached;
}
