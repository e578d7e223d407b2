/**
 * Reading a tar stream entry by entry without holding it in memory: headers are resolved
 * (PAX and GNU long names applied), each entry's content is handed out as chunks, and whatever
 * the consumer does not read is skipped.
 */
import { BLOCK, isZeroBlock, padding, parseHeader, parsePax, type TarHeader } from './header';

/** Metadata (PAX, GNU long names) is read into memory: bound it. */
const MAX_META = 1024 * 1024;

/** Pulls exact byte counts out of a chunked source. */
export class ByteReader {
  private buffered: Buffer[] = [];
  private size = 0;
  private done = false;
  private readonly it: AsyncIterator<Buffer | string>;

  constructor(source: AsyncIterable<Buffer | string>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(min: number): Promise<void> {
    while (this.size < min && !this.done) {
      const next = await this.it.next();
      if (next.done) {
        this.done = true;
        break;
      }
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      if (chunk.length === 0) continue;
      this.buffered.push(chunk);
      this.size += chunk.length;
    }
  }

  /** Exactly n bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.buffered = rest.length ? [rest] : [];
    this.size = rest.length;
    return out;
  }

  /** Up to `n` bytes as they arrive (each chunk non-empty); stops early only at the end of the stream. */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.size === 0) await this.fill(1);
      if (this.size === 0) return;
      const head = this.buffered[0]!;
      const take = Math.min(left, head.length);
      yield head.subarray(0, take);
      if (take === head.length) this.buffered.shift();
      else this.buffered[0] = head.subarray(take);
      this.size -= take;
      left -= take;
    }
  }
}

export interface TarEntry extends TarHeader {
  /** The content (files). Read it fully or not at all; the rest is skipped either way. */
  body(): AsyncGenerator<Buffer>;
}

export class TruncatedTarError extends Error {
  constructor(what: string) {
    super(`the tar stream ended in the middle of ${what}`);
    this.name = 'TruncatedTarError';
  }
}

async function readMeta(reader: ByteReader, h: TarHeader): Promise<Buffer> {
  if (h.size > MAX_META)
    throw new Error(`tar: a ${h.type} header of ${h.size} bytes is larger than the ${MAX_META} allowed`);
  const data = await reader.read(h.size + padding(h.size));
  if (data.length < h.size + padding(h.size)) throw new TruncatedTarError(`a ${h.type} header`);
  return data.subarray(0, h.size);
}

/** Entries of a tar stream; ends at the end-of-archive blocks or at a clean end of input. */
export async function* readTar(source: AsyncIterable<Buffer | string>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source);
  let pax = new Map<string, string>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await reader.read(BLOCK);
    if (block.length === 0) return;
    if (block.length < BLOCK) throw new TruncatedTarError('a header');
    if (isZeroBlock(block)) return;
    const h = parseHeader(block);
    if (h.type === 'pax' || h.type === 'pax-global') {
      const records = parsePax(await readMeta(reader, h));
      // Global headers would change every later entry; we honour only per-entry ones.
      if (h.type === 'pax') pax = records;
      continue;
    }
    if (h.type === 'gnu-longname' || h.type === 'gnu-longlink') {
      const text = (await readMeta(reader, h)).toString('utf8').replace(/\0+$/, '');
      if (h.type === 'gnu-longname') longName = text;
      else longLink = text;
      continue;
    }
    const entry = applyOverrides(h, pax, longName, longLink);
    pax = new Map();
    longName = longLink = undefined;
    // POSIX: links, devices, directories and fifos have no data blocks whatever their size says;
    // unknown types are read as regular files, so their content is skipped correctly.
    const size = '123456'.includes(entry.typeflag) ? 0 : entry.size;
    if (entry.type !== 'file') entry.size = size;
    let consumed = 0;
    let started = false;
    const body = async function* (): AsyncGenerator<Buffer> {
      if (started) throw new Error('tar: an entry body can be read once');
      started = true;
      for await (const c of reader.chunks(size)) {
        consumed += c.length;
        yield c;
      }
      if (consumed < size) throw new TruncatedTarError(`the content of ${entry.path}`);
    };
    yield { ...entry, body };
    // Whatever the consumer left unread, then the padding to the next block.
    const rest = size - consumed + padding(size);
    let skipped = 0;
    for await (const c of reader.chunks(rest)) skipped += c.length;
    if (skipped < rest) throw new TruncatedTarError(`the content of ${entry.path}`);
  }
}

function applyOverrides(h: TarHeader, pax: Map<string, string>, longName?: string, longLink?: string): TarHeader {
  const out = { ...h };
  if (longName !== undefined) out.path = longName;
  if (longLink !== undefined) out.linkname = longLink;
  const path = pax.get('path');
  if (path !== undefined) out.path = path;
  const linkpath = pax.get('linkpath');
  if (linkpath !== undefined) out.linkname = linkpath;
  const size = pax.get('size');
  if (size !== undefined) {
    const n = Number(size);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error('tar: bad PAX size');
    out.size = n;
  }
  const mtime = pax.get('mtime');
  if (mtime !== undefined && /^-?\d+(\.\d+)?$/.test(mtime))
    out.mtimeMs = Math.round(Number(mtime) * 1000 * 1000) / 1000;
  return out;
}
