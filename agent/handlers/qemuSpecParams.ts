/**
 * `spec.qemu`, checked at the agent's boundary: what reaches the emulator's command line is an
 * image path or a URL with its checksum, bounded numbers and absolute node paths.
 */
import type { QemuSettings } from '../protocol';
import { CONTROL, isObj, positiveNumber } from './specChecks';

/** A file on the node the emulator opens: an absolute path without control characters. */
function nodeFilePath(what: string, v: unknown, invalid: (what: string) => Error): string {
  if (typeof v !== 'string' || !v.startsWith('/') || v.length > 4096 || CONTROL.test(v))
    throw invalid(
      `${what} must be an absolute path on the node without control characters, got ${JSON.stringify(v)?.slice(0, 80)}`,
    );
  return v;
}

/** A path on the node, or an http(s) URL the node downloads. */
function qemuImage(v: unknown, invalid: (what: string) => Error): string {
  if (typeof v === 'string' && /^https?:\/\/[^\s]+$/i.test(v) && v.length <= 4096 && !CONTROL.test(v)) return v;
  return nodeFilePath('spec.qemu.image', v, invalid);
}

export function validQemu(v: unknown, invalid: (what: string) => Error): QemuSettings {
  if (!isObj(v)) throw invalid('spec.qemu must be an object with an image');
  const out: QemuSettings = { image: qemuImage(v.image, invalid) };
  if (v.imageSha256 !== undefined || /^https?:\/\//i.test(out.image)) {
    if (typeof v.imageSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(v.imageSha256))
      throw invalid(
        `spec.qemu.imageSha256 must be 64 lowercase hex digits (required when the image is a URL), got ${JSON.stringify(v.imageSha256)?.slice(0, 80)}`,
      );
    out.imageSha256 = v.imageSha256;
  }
  // QEMU gives a VM whole CPUs only.
  const cpus = positiveNumber(invalid, 'spec.qemu.cpus', v.cpus, { integer: true, min: 1, max: 1024 });
  if (cpus !== undefined) out.cpus = cpus;
  const memory = positiveNumber(invalid, 'spec.qemu.memoryBytes', v.memoryBytes, {
    integer: true,
    min: 128 * 1024 * 1024,
    max: 2 ** 50,
  });
  if (memory !== undefined) out.memoryBytes = memory;
  const disk = positiveNumber(invalid, 'spec.qemu.diskBytes', v.diskBytes, { integer: true, max: 2 ** 50 });
  if (disk !== undefined) out.diskBytes = disk;
  if (v.accel !== undefined) {
    if (v.accel !== 'auto' && v.accel !== 'kvm' && v.accel !== 'tcg')
      throw invalid(`spec.qemu.accel must be auto, kvm or tcg, got ${JSON.stringify(v.accel)?.slice(0, 40)}`);
    out.accel = v.accel;
  }
  if (v.kernel !== undefined) out.kernel = nodeFilePath('spec.qemu.kernel', v.kernel, invalid);
  if (v.initrd !== undefined) out.initrd = nodeFilePath('spec.qemu.initrd', v.initrd, invalid);
  if (v.append !== undefined) {
    if (typeof v.append !== 'string' || v.append.length > 4096 || CONTROL.test(v.append))
      throw invalid('spec.qemu.append must be a kernel command line without control characters');
    out.append = v.append;
  }
  return out;
}
