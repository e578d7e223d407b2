/** Writing tar: the header blocks of one entry, and small archives held in memory. */
import { BLOCK, encodeHeader, encodePax, padding, type HeaderInput } from './header';

const MAX_OCTAL_SIZE = 0o77777777777;

export interface TarInput {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink';
  mode: number;
  uid?: number;
  gid?: number;
  mtimeMs?: number;
  /** File content (type 'file'). */
  data?: Buffer | string;
  linkname?: string;
}

/** The header blocks of one entry: a PAX header first when ustar cannot hold a field, or the mtime has a fraction. */
export function entryHeader(h: HeaderInput): Buffer {
  const plain = encodeHeader(h);
  const mtime = paxMtime(h);
  if (plain && mtime === undefined) return plain;
  const pax: Record<string, string> = {};
  if (!plain) {
    if (!encodeHeader({ ...h, linkname: '', size: 0 })) pax.path = h.path;
    if (h.linkname && !encodeHeader({ ...h, path: 'x', size: 0 })) pax.linkpath = h.linkname;
    if ((h.size ?? 0) > MAX_OCTAL_SIZE) pax.size = String(h.size);
  }
  if (mtime !== undefined) pax.mtime = mtime;
  const records = encodePax(pax);
  const paxHeader = encodeHeader({
    path: 'PaxHeader',
    type: 'pax',
    mode: 0o644,
    size: records.length,
    mtimeMs: h.mtimeMs,
  });
  const main =
    plain ??
    encodeHeader({
      ...h,
      path: pax.path ? shorten(h.path) : h.path,
      linkname: pax.linkpath ? shorten(h.linkname ?? '') : h.linkname,
      size: pax.size ? 0 : h.size,
    });
  if (!paxHeader || !main) throw new Error(`tar: cannot encode an entry for ${h.path}`);
  return Buffer.concat([paxHeader, records, Buffer.alloc(padding(records.length)), main]);
}

/** `secs.fraction` to the nanosecond for a PAX record, or undefined for a whole second (ustar holds it). */
export function paxMtime(h: Pick<HeaderInput, 'mtimeMs' | 'mtimeNs'>): string | undefined {
  if (h.mtimeNs === undefined && h.mtimeMs === undefined) return undefined;
  // From milliseconds in two parts: ms × 1e6 as one number would lose the last digits.
  const ns =
    h.mtimeNs ??
    BigInt(Math.floor(h.mtimeMs! / 1000)) * 1_000_000_000n +
      BigInt(Math.round((((h.mtimeMs! % 1000) + 1000) % 1000) * 1e6));
  const frac = ns % 1_000_000_000n;
  if (frac === 0n || ns < 0n) return undefined;
  return `${ns / 1_000_000_000n}.${frac.toString().padStart(9, '0').replace(/0+$/, '')}`;
}

/** A printable stand-in of at most 100 bytes for a ustar field whose real value travels in the PAX header. */
function shorten(s: string): string {
  const ascii = s.replace(/[^\x20-\x7e]/g, '_');
  return ascii.length <= 100 ? ascii : ascii.slice(ascii.length - 100);
}

/** A whole archive in memory, end marker included. */
export function tarBuffer(entries: readonly TarInput[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data =
      e.type === 'file'
        ? typeof e.data === 'string'
          ? Buffer.from(e.data, 'utf8')
          : (e.data ?? Buffer.alloc(0))
        : Buffer.alloc(0);
    parts.push(entryHeader({ ...e, size: data.length }), data, Buffer.alloc(padding(data.length)));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
