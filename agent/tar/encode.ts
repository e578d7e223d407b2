/** Writing tar streams: small in-memory archives (files put into a workspace) and folders (build contexts). */
import { createReadStream } from 'node:fs';
import { lstat, opendir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BLOCK, encodeHeader, encodePax, padding, type HeaderInput } from './header';

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

/** The header blocks of one entry (a PAX header first when ustar fields cannot hold it). */
export function entryHeader(h: HeaderInput): Buffer {
  const plain = encodeHeader(h);
  const fractional = h.mtimeMs !== undefined && h.mtimeMs % 1000 !== 0;
  if (plain && !fractional) return plain;
  const pax: Record<string, string> = {};
  if (!plain) {
    pax.path = h.path;
    if (h.linkname) pax.linkpath = h.linkname;
    if ((h.size ?? 0) > 0o77777777777) pax.size = String(h.size);
  }
  if (h.mtimeMs !== undefined) pax.mtime = (h.mtimeMs / 1000).toFixed(6).replace(/\.?0+$/, '');
  const records = encodePax(pax);
  const paxHeader = encodeHeader({ path: 'PaxHeader', type: 'pax', mode: 0o644, size: records.length });
  const main = encodeHeader({ ...h, path: shorten(h.path), linkname: shorten(h.linkname ?? ''), size: (h.size ?? 0) > 0o77777777777 ? 0 : h.size });
  if (!paxHeader || !main) throw new Error(`tar: cannot encode an entry for ${h.path}`);
  return Buffer.concat([paxHeader, records, Buffer.alloc(padding(records.length)), main]);
}

/** A stand-in ustar name when the real one travels in the PAX header. */
function shorten(s: string): string {
  return Buffer.byteLength(s) <= 100 ? s : Buffer.from(s).subarray(0, 100).toString('latin1').replace(/[^\x20-\x7e]/g, '_');
}

/** A whole archive in memory, end marker included. */
export function tarBuffer(entries: readonly TarInput[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === 'file' ? (typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : (e.data ?? Buffer.alloc(0))) : Buffer.alloc(0);
    parts.push(entryHeader({ ...e, size: data.length }), data, Buffer.alloc(padding(data.length)));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

/**
 * A folder as a tar stream, paths relative to it, without following symlinks (they are stored as
 * links). Used for docker build contexts; file contents are streamed, not loaded whole.
 */
export async function* tarDirectory(root: string, rel = ''): AsyncGenerator<Buffer> {
  yield* walk(root, rel);
  yield Buffer.alloc(BLOCK * 2);
}

async function* walk(root: string, rel: string): AsyncGenerator<Buffer> {
  const dir = await opendir(join(root, rel));
  const names: string[] = [];
  for await (const d of dir) names.push(d.name);
  names.sort();
  for (const name of names) {
    const path = rel ? `${rel}/${name}` : name;
    const abs = join(root, path);
    const st = await lstat(abs);
    const common = { mode: st.mode, uid: st.uid, gid: st.gid, mtimeMs: Math.floor(st.mtimeMs) };
    if (st.isDirectory()) {
      yield entryHeader({ ...common, path: `${path}/`, type: 'directory' });
      yield* walk(root, path);
    } else if (st.isSymbolicLink()) {
      yield entryHeader({ ...common, path, type: 'symlink', linkname: await readlink(abs) });
    } else if (st.isFile()) {
      yield entryHeader({ ...common, path, type: 'file', size: st.size });
      let sent = 0;
      const content = st.size > 0 ? createReadStream(abs, { end: st.size - 1 }) : [];
      for await (const chunk of content) {
        const c = chunk as Buffer;
        sent += c.length;
        yield c;
      }
      if (sent !== st.size) throw new Error(`${abs} changed size while being read`);
      yield Buffer.alloc(padding(st.size));
    }
    // sockets, fifos and devices have no place in a build context
  }
}
