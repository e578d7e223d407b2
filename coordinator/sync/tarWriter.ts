/**
 * The sync's tar stream, what the node's `agent.js sync-receive` reads: headers by common/tar,
 * contents streamed here so each file is read at most once, with back-pressure, and a file that
 * changes while it is read still yields exactly the size its header announced.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { entryHeader } from '../../common/tar/encode';
import { BLOCK, padding } from '../../common/tar/header';

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
  /** Called after each entry's content went into the stream, with the sha256 of a file's bytes when `hash` is set. */
  onEntry?: (entry: TarEntry, bytes: number, sha256?: string) => void;
  /** Hash each file's bytes as they are sent (what the receiver gets, even if the file changed meanwhile). */
  hash?: boolean;
}

const CHUNK = 64 * 1024;

/** The header block(s) of an entry, by common/tar's one encoder. */
function headerOf(e: TarEntry): Buffer {
  const link = e.kind === 'symlink';
  return entryHeader({
    path: e.path,
    type: link ? 'symlink' : 'file',
    mode: link ? 0o777 : e.mode,
    size: link ? 0 : e.size,
    mtimeMs: e.mtimeMs,
    ...(e.mtimeNs !== undefined ? { mtimeNs: e.mtimeNs } : {}),
    linkname: link ? (e.linkTarget ?? '') : '',
  });
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
      yield headerOf(e);
      if (e.kind !== 'file') {
        opts.onEntry?.(e, 0);
        continue;
      }
      const hash = opts.hash ? createHash('sha256') : undefined;
      if (Buffer.isBuffer(e.source)) {
        if (e.source.length !== e.size)
          throw new Error(`tar entry ${e.path}: ${e.source.length} bytes given, ${e.size} announced`);
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
      yield Buffer.alloc(padding(e.size));
      opts.onEntry?.(e, e.size, hash?.digest('hex'));
    }
    yield Buffer.alloc(BLOCK * 2);
  }
  return Readable.from(generate(), { objectMode: false });
}
