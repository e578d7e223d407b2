/** Pure parsers for what Linux says about itself; tested against recorded text. */

export interface MemInfo {
  totalBytes: number;
  availableBytes: number;
}

/**
 * /proc/meminfo. Kernels before 3.14 have no MemAvailable: estimate it as
 * MemFree + Buffers + Cached, as `free` did then.
 */
export function parseMeminfo(text: string): MemInfo | undefined {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m) kb.set(m[1]!, Number(m[2]));
  }
  const total = kb.get('MemTotal');
  if (total === undefined) return undefined;
  const available =
    kb.get('MemAvailable') ?? (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0);
  return { totalBytes: total * 1024, availableBytes: Math.min(available, total) * 1024 };
}

/** os-release(5): KEY=value lines, values optionally quoted with shell-style escapes. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    out[m[1]!] = unquote(m[2]!);
  }
  return out;
}

function unquote(v: string): string {
  const q = v[0];
  if ((q === '"' || q === "'") && v.length >= 2 && v.endsWith(q)) {
    const inner = v.slice(1, -1);
    return q === '"' ? inner.replace(/\\([\\"$`])/g, '$1') : inner;
  }
  return v;
}

/** A name for the OS a person recognizes: PRETTY_NAME, else NAME VERSION, else undefined. */
export function osNameFromRelease(fields: Record<string, string>): string | undefined {
  if (fields.PRETTY_NAME) return fields.PRETTY_NAME;
  if (fields.NAME) return fields.VERSION ? `${fields.NAME} ${fields.VERSION}` : fields.NAME;
  return undefined;
}

export interface DiskSpace {
  freeBytes: number;
  totalBytes: number;
}

/**
 * `df -Pk PATH` (POSIX format, 1024-byte blocks), for Node < 18.15 which has no fs.statfs.
 * The last line holds the figures; a long device name cannot wrap in POSIX format.
 */
export function parseDfPosix(text: string): DiskSpace | undefined {
  const lines = text.trim().split('\n');
  if (lines.length < 2) return undefined;
  const cols = lines[lines.length - 1]!.trim().split(/\s+/);
  // Filesystem, 1024-blocks, Used, Available, Capacity, Mounted on (which may hold spaces)
  if (cols.length < 6) return undefined;
  const total = Number(cols[1]);
  const avail = Number(cols[3]);
  if (!Number.isFinite(total) || !Number.isFinite(avail)) return undefined;
  return { totalBytes: total * 1024, freeBytes: avail * 1024 };
}
