/**
 * The tar format, as much as the sync and the agent need: POSIX ustar headers, PAX extended
 * headers (long paths, exact mtimes), GNU long names when reading, base-256 sizes when reading.
 * Kept by hand rather than taken from tar-stream: on the sync path tar-stream was no faster
 * (measured: 10,000 small files and 4 × 64 MiB), it would still need the PAX mtime records and
 * exact-size file streaming written here, and it adds six packages to the agent bundle.
 */

export const BLOCK = 512;

export type TarEntryType =
  | 'file'
  | 'directory'
  | 'symlink'
  | 'hardlink'
  | 'pax'
  | 'pax-global'
  | 'gnu-longname'
  | 'gnu-longlink'
  | 'other';

export interface TarHeader {
  path: string;
  type: TarEntryType;
  /** The raw type flag, for messages about entries we do not handle. */
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  linkname: string;
}

const typeByFlag: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '5': 'directory',
  x: 'pax',
  g: 'pax-global',
  L: 'gnu-longname',
  K: 'gnu-longlink',
};
const flagByType: Partial<Record<TarEntryType, string>> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  directory: '5',
  pax: 'x',
};

function readString(buf: Buffer, off: number, len: number): string {
  const slice = buf.subarray(off, off + len);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

/** Octal text, or GNU base-256 (high bit of the first byte set) for values past 8 GiB. */
function readNumber(buf: Buffer, off: number, len: number): number {
  const first = buf[off] ?? 0;
  if (first & 0x80) {
    let n = first & 0x7f;
    for (let i = 1; i < len; i++) n = n * 256 + (buf[off + i] ?? 0);
    if (!Number.isSafeInteger(n)) throw new Error('tar: a number field is too large');
    return n;
  }
  const text = readString(buf, off, len).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new Error(`tar: bad number field ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

function checksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

export function parseHeader(block: Buffer): TarHeader {
  if (block.length !== BLOCK) throw new Error('tar: short header block');
  const stored = readNumber(block, 148, 8);
  if (stored !== checksum(block)) throw new Error('tar: header checksum mismatch (not a tar stream, or a corrupt one)');
  const typeflag = String.fromCharCode(block[156] ?? 0);
  let path = readString(block, 0, 100);
  const magic = readString(block, 257, 6);
  if (magic === 'ustar') {
    const prefix = readString(block, 345, 155);
    if (prefix) path = `${prefix}/${path}`;
  }
  return {
    path,
    type: typeByFlag[typeflag] ?? 'other',
    typeflag,
    mode: readNumber(block, 100, 8),
    uid: readNumber(block, 108, 8),
    gid: readNumber(block, 116, 8),
    size: readNumber(block, 124, 12),
    mtimeMs: readNumber(block, 136, 12) * 1000,
    linkname: readString(block, 157, 100),
  };
}

/** PAX records: `<len> <key>=<value>\n`, len counting the whole record. */
export function parsePax(data: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let off = 0;
  while (off < data.length) {
    const space = data.indexOf(0x20, off);
    if (space < 0) break;
    const len = Number(data.subarray(off, space).toString('latin1'));
    if (!Number.isSafeInteger(len) || len <= 0 || off + len > data.length) throw new Error('tar: bad PAX record');
    const record = data.subarray(space + 1, off + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    off += len;
  }
  return out;
}

export function encodePax(records: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(records)) {
    const body = ` ${k}=${v}\n`;
    const bodyLen = Buffer.byteLength(body);
    // The length prefix counts itself: find the fixed point.
    let len = bodyLen + 1;
    while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
    parts.push(Buffer.from(`${len}${body}`, 'utf8'));
  }
  return Buffer.concat(parts);
}

function writeString(block: Buffer, off: number, len: number, value: string): boolean {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > len) return false;
  bytes.copy(block, off);
  return true;
}

function writeOctal(block: Buffer, off: number, len: number, value: number): boolean {
  const text = Math.max(0, Math.floor(value)).toString(8);
  if (text.length > len - 1) return false;
  block.write(text.padStart(len - 1, '0') + '\0', off, len, 'latin1');
  return true;
}

export interface HeaderInput {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'pax';
  mode: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtimeMs?: number;
  /** The mtime to the nanosecond (a bigint stat's), preferred to mtimeMs for the PAX record. */
  mtimeNs?: bigint;
  linkname?: string;
}

/** Splits a path into ustar's prefix (≤155 bytes) and name (≤100 bytes) at a '/'; undefined if it cannot. */
export function splitUstarPath(path: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    if (Buffer.byteLength(prefix) > 155) return undefined;
    const name = path.slice(i + 1);
    if (name.length > 0 && Buffer.byteLength(name) <= 100) return { prefix, name };
  }
  return undefined;
}

/**
 * One ustar header block. Returns undefined when a field does not fit (long path or link,
 * huge size): the caller then puts a PAX header first.
 */
export function encodeHeader(h: HeaderInput): Buffer | undefined {
  const block = Buffer.alloc(BLOCK);
  const split = splitUstarPath(h.path);
  const ok =
    split !== undefined &&
    writeString(block, 0, 100, split.name) &&
    writeString(block, 345, 155, split.prefix) &&
    writeOctal(block, 100, 8, h.mode & 0o7777) &&
    writeOctal(block, 108, 8, h.uid ?? 0) &&
    writeOctal(block, 116, 8, h.gid ?? 0) &&
    writeOctal(block, 124, 12, h.size ?? 0) &&
    // Past what 11 octal digits hold (the year 4147) the PAX record carries the mtime.
    writeOctal(block, 136, 12, Math.min(Math.floor((h.mtimeMs ?? 0) / 1000), 0o77777777777)) &&
    writeString(block, 157, 100, h.linkname ?? '');
  if (!ok) return undefined;
  block.write(flagByType[h.type]!, 156, 1, 'latin1');
  block.write('ustar\0', 257, 6, 'latin1');
  block.write('00', 263, 2, 'latin1');
  block.write(checksum(block).toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return block;
}

export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
