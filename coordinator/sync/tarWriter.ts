/**
 * A streaming tar writer (POSIX ustar, with pax extended headers when a field does not fit):
 * what the node's `agent.js sync-receive` reads. Written here rather than taken from npm
 * because the whole format we need is a 512-byte header and padding, the stream must read each
 * file at most once with back-pressure, and a file that changes while it is read must still
 * produce exactly the size its header announced.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';

export interface TarEntry {
  /** POSIX path inside the archive. */
  path: string;
  kind: 'file' | 'symlink';
  size: number;
  mode: number;
  mtimeMs: number;
  /** Full precision mtime for the pax record; derived from mtimeMs when absent. */
  mtimeNs?: bigint;
  linkTarget?: string;
  /** Where the content comes from: a file to read, or the bytes themselves. */
  source?: string | Buffer;
}

export interface TarOptions {
  /** Emit a pax `mtime` record with sub-second precision (default true). */
  paxMtime?: boolean;
  /** Called after each entry's content went into the stream, with the sha256 of a file's bytes when `hash` is set. */
  onEntry?: (entry: TarEntry, bytes: number, sha256?: string) => void;
  /** Hash each file's bytes as they are sent (what the receiver gets, even if the file changed meanwhile). */
  hash?: boolean;
}

const BLOCK = 512;
const MAX_OCTAL_11 = 0o77777777777;
const CHUNK = 64 * 1024;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function writeString(buf: Buffer, offset: number, len: number, s: string): void {
  buf.write(s, offset, Math.min(len, Buffer.byteLength(s)), 'utf8');
}

/** Splits a path into ustar's prefix (≤155) and name (≤100), at a '/'; undefined if impossible. */
export function splitUstarPath(path: string): { prefix: string; name: string } | undefined {
  if (!/^[\x20-\x7e]*$/.test(path)) return undefined;
  if (path.length <= 100) return { prefix: '', name: path };
  for (let i = path.length - 1; i >= 0; i--) {
    if (path[i] !== '/') continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (name.length === 0 || name.length > 100) return undefined;
    if (prefix.length <= 155) return { prefix, name };
  }
  return undefined;
}

/** One pax record: "<len> <key>=<value>\n", where len counts itself. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  const digits = String(bodyLen).length;
  let len = bodyLen + digits;
  if (String(len).length > digits) len = bodyLen + String(len).length;
  return `${len}${body}`;
}

function mtimeString(e: TarEntry): string {
  const ns = e.mtimeNs ?? BigInt(Math.round(e.mtimeMs * 1e6));
  const secs = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return frac ? `${secs}.${frac}` : `${secs}`;
}

function header(fields: { name: string; prefix: string; mode: number; size: number; mtime: number; type: string; linkname: string }): Buffer {
  const h = Buffer.alloc(BLOCK);
  writeString(h, 0, 100, fields.name);
  h.write(octal(fields.mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(fields.size, 12), 124, 'ascii');
  h.write(octal(Math.max(0, Math.min(fields.mtime, MAX_OCTAL_11)), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(fields.type, 156, 'ascii');
  writeString(h, 157, 100, fields.linkname);
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  writeString(h, 345, 155, fields.prefix);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'ascii');
  return h;
}

function padding(size: number): Buffer {
  const rem = size % BLOCK;
  return Buffer.alloc(rem === 0 ? 0 : BLOCK - rem);
}

/** The header block(s) of an entry: a pax header first when the ustar fields cannot hold it all. */
export function entryHeader(e: TarEntry, opts: TarOptions = {}): Buffer {
  const size = e.kind === 'file' ? e.size : 0;
  const link = e.kind === 'symlink' ? e.linkTarget ?? '' : '';
  const records: string[] = [];
  let split = splitUstarPath(e.path);
  if (!split) {
    records.push(paxRecord('path', e.path));
    split = { prefix: '', name: asciiTail(e.path, 100) };
  }
  let linkname = link;
  if (Buffer.byteLength(link) > 100 || !/^[\x20-\x7e]*$/.test(link)) {
    records.push(paxRecord('linkpath', link));
    linkname = asciiTail(link, 100);
  }
  if (size > MAX_OCTAL_11) records.push(paxRecord('size', String(size)));
  const mtime = Math.floor(e.mtimeMs / 1000);
  if (opts.paxMtime !== false && (e.mtimeNs ?? BigInt(Math.round(e.mtimeMs * 1e6))) % 1_000_000_000n !== 0n) records.push(paxRecord('mtime', mtimeString(e)));
  const main = header({ name: split.name, prefix: split.prefix, mode: e.kind === 'symlink' ? 0o777 : e.mode, size: size > MAX_OCTAL_11 ? 0 : size, mtime, type: e.kind === 'symlink' ? '2' : '0', linkname });
  if (records.length === 0) return main;
  const body = Buffer.from(records.join(''), 'utf8');
  const pax = header({ name: asciiTail(`PaxHeaders/${e.path}`, 100), prefix: '', mode: 0o644, size: body.length, mtime, type: 'x', linkname: '' });
  return Buffer.concat([pax, body, padding(body.length), main]);
}

/** A stand-in for a field that the pax record overrides: printable, short enough. */
function asciiTail(s: string, max: number): string {
  const ascii = s.replace(/[^\x20-\x7e]/g, '_');
  return ascii.length <= max ? ascii : ascii.slice(ascii.length - max);
}

/** Streams exactly `size` bytes of a file, zero-filling if it shrank meanwhile, cutting if it grew. */
async function* fileBytes(path: string, size: number): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length, size - left);
      if (bytesRead === 0) {
        yield Buffer.alloc(left);
        return;
      }
      left -= bytesRead;
      yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** The archive as a byte stream, ending with the two zero blocks. */
export function tarStream(entries: Iterable<TarEntry> | AsyncIterable<TarEntry>, opts: TarOptions = {}): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    for await (const e of entries) {
      yield entryHeader(e, opts);
      if (e.kind !== 'file') {
        opts.onEntry?.(e, 0);
        continue;
      }
      const hash = opts.hash ? createHash('sha256') : undefined;
      if (Buffer.isBuffer(e.source)) {
        if (e.source.length !== e.size) throw new Error(`tar entry ${e.path}: ${e.source.length} bytes given, ${e.size} announced`);
        hash?.update(e.source);
        yield e.source;
      } else if (typeof e.source === 'string') {
        for await (const chunk of fileBytes(e.source, e.size)) {
          hash?.update(chunk);
          yield chunk;
        }
      } else if (e.size > 0) {
        throw new Error(`tar entry ${e.path} has no source`);
      }
      yield padding(e.size);
      opts.onEntry?.(e, e.size, hash?.digest('hex'));
    }
    yield Buffer.alloc(BLOCK * 2);
  }
  return Readable.from(generate(), { objectMode: false });
}
