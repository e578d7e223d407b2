/**
 * What a Linux executable asks of the C library it will run on, read from its ELF headers: its
 * machine, whether it is dynamically linked, and the highest GLIBC_x.y symbol version it needs
 * (the `.gnu.version_r` table, as `objdump -p` shows it). Pure over a positional reader, so it
 * reads a few KiB of a 100 MB binary. Hand-written because the check needs only these three
 * tables, and no registry package for ELF reading we could find is kept up for Node 20.
 */

export interface ElfNeeds {
  /** e_machine mapped to `uname -m` spellings (x86_64, aarch64, …), or `machine-<n>`. */
  machine: string;
  /** Has a PT_INTERP: needs a dynamic loader (and so a C library) on the node. */
  dynamic: boolean;
  /** Highest GLIBC_ version it needs ("2.28"), when it names one. */
  glibc?: string;
  /** Highest GLIBCXX_ version it needs from libstdc++, when it names one. */
  glibcxx?: string;
}

/** Reads `length` bytes at `offset` (fewer at the end of the file). */
export type ReadAt = (offset: number, length: number) => Promise<Buffer>;

const MACHINES: Record<number, string> = {
  3: 'i686',
  40: 'armv7l',
  21: 'ppc64le',
  22: 's390x',
  62: 'x86_64',
  183: 'aarch64',
  243: 'riscv64',
};
const PT_INTERP = 3;
const SHT_GNU_VERNEED = 0x6ffffffe;

function bad(why: string): Error {
  return new Error(`not a readable ELF executable: ${why}`);
}

/** Compares dotted versions numerically: "2.34" > "2.4". */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function maxVersion(list: string[]): string | undefined {
  return list.length ? list.reduce((m, v) => (compareVersions(v, m) > 0 ? v : m)) : undefined;
}

/** 64-bit little-endian ELF only: every Node.js build for Linux the coordinator can run as. */
export async function readElfNeeds(readAt: ReadAt): Promise<ElfNeeds> {
  const h = await readAt(0, 64);
  if (h.length < 64 || h.readUInt32BE(0) !== 0x7f454c46) throw bad('no ELF magic');
  if (h[4] !== 2 || h[5] !== 1) throw bad('not a 64-bit little-endian file');
  const machineNo = h.readUInt16LE(18);
  const phoff = Number(h.readBigUInt64LE(32));
  const shoff = Number(h.readBigUInt64LE(40));
  const phentsize = h.readUInt16LE(54);
  const phnum = h.readUInt16LE(56);
  const shentsize = h.readUInt16LE(58);
  const shnum = h.readUInt16LE(60);

  const ph = await readAt(phoff, phentsize * phnum);
  let dynamic = false;
  for (let i = 0; i + 1 <= phnum && (i + 1) * phentsize <= ph.length; i++) {
    if (ph.readUInt32LE(i * phentsize) === PT_INTERP) dynamic = true;
  }
  const needs: ElfNeeds = { machine: MACHINES[machineNo] ?? `machine-${machineNo}`, dynamic };
  if (!dynamic || shoff === 0 || shnum === 0) return needs;

  const sh = await readAt(shoff, shentsize * shnum);
  const section = (i: number) => ({
    type: sh.readUInt32LE(i * shentsize + 4),
    offset: Number(sh.readBigUInt64LE(i * shentsize + 24)),
    size: Number(sh.readBigUInt64LE(i * shentsize + 32)),
    link: sh.readUInt32LE(i * shentsize + 40),
    info: sh.readUInt32LE(i * shentsize + 44),
  });
  for (let i = 0; i < shnum && (i + 1) * shentsize <= sh.length; i++) {
    const s = section(i);
    if (s.type !== SHT_GNU_VERNEED) continue;
    if (s.link >= shnum) throw bad('version table names no string table');
    const strs = section(s.link);
    const [table, names] = await Promise.all([readAt(s.offset, s.size), readAt(strs.offset, strs.size)]);
    const name = (off: number) => {
      const end = names.indexOf(0, off);
      return names.subarray(off, end < 0 ? names.length : end).toString('latin1');
    };
    const glibc: string[] = [];
    const glibcxx: string[] = [];
    // Verneed entries (16 bytes) each chain Vernaux entries (16 bytes) by relative offsets.
    let at = 0;
    for (let n = 0; n < s.info && at + 16 <= table.length; n++) {
      const cnt = table.readUInt16LE(at + 2);
      let aux = at + table.readUInt32LE(at + 8);
      for (let j = 0; j < cnt && aux + 16 <= table.length; j++) {
        const v = name(table.readUInt32LE(aux + 8));
        const m = /^GLIBC(XX)?_(\d+(?:\.\d+)*)$/.exec(v);
        if (m) (m[1] ? glibcxx : glibc).push(m[2]!);
        const next = table.readUInt32LE(aux + 12);
        if (next === 0) break;
        aux += next;
      }
      const next = table.readUInt32LE(at + 12);
      if (next === 0) break;
      at += next;
    }
    const g = maxVersion(glibc);
    const gxx = maxVersion(glibcxx);
    if (g) needs.glibc = g;
    if (gxx) needs.glibcxx = gxx;
  }
  return needs;
}
