/** A folder as a tar stream (docker build contexts), read beneath descriptors so a running workspace cannot steer it. */
import { closeSync, createReadStream } from 'node:fs';
import { BLOCK, padding } from '../../common/tar/header';
import { entryHeader } from '../../common/tar/encode';
import { Dir, MAX_DEPTH } from '../fs/beneath';
import { BeneathError } from '../fs/beneathError';

/**
 * A folder as a tar stream, paths relative to it (used for docker build contexts). The folder may
 * be changed meanwhile by a running workspace, so nothing below it is reached by path: each
 * folder is held by descriptor, links are stored as links (never followed), only regular files
 * are read (through the descriptor opened without following), contents streamed. `root` is a
 * path (opened here) or a folder the caller holds.
 */
export async function* tarDirectory(root: string | Dir): AsyncGenerator<Buffer> {
  const dir = typeof root === 'string' ? Dir.openRoot(root) : root;
  try {
    yield* walk(dir, '', 0);
  } finally {
    if (dir !== root) dir.close();
  }
  yield Buffer.alloc(BLOCK * 2);
}

async function* walk(dir: Dir, rel: string, depth: number): AsyncGenerator<Buffer> {
  if (depth > MAX_DEPTH)
    throw new BeneathError(
      'TOO_DEEP',
      rel,
      `${JSON.stringify(rel.slice(0, 200))} is nested more than ${MAX_DEPTH} folders deep`,
    );
  for (const name of dir.names().sort()) {
    const path = rel ? `${rel}/${name}` : name;
    const st = dir.lstat(name);
    if (!st) continue; // gone meanwhile
    const common = { mode: st.mode, uid: st.uid, gid: st.gid, mtimeMs: Math.floor(st.mtimeMs) };
    if (st.isDirectory()) {
      const sub = openIfStillFolder(dir, name);
      if (!sub) continue;
      try {
        yield entryHeader({ ...common, path: `${path}/`, type: 'directory' });
        yield* walk(sub, path, depth + 1);
      } finally {
        sub.close();
      }
    } else if (st.isSymbolicLink()) {
      yield entryHeader({ ...common, path, type: 'symlink', linkname: dir.readlink(name) });
    } else if (st.isFile()) {
      yield* fileEntry(dir, name, path, common);
    }
    // sockets, fifos and devices have no place in a build context
  }
}

/**
 * The file `name` of `dir` as a tar entry (header, bytes, padding), opened without following a
 * link and read through that descriptor; nothing when it is gone or no longer a file. Its mode
 * is the opened file's, masked with `modeMask`.
 */
export async function* fileEntry(
  dir: Dir,
  name: string,
  path: string,
  h: { uid: number; gid: number; mtimeMs: number },
  modeMask = 0o177777,
): AsyncGenerator<Buffer> {
  const file = dir.openFileForRead(name);
  if (!file) return; // swapped for something else meanwhile
  const { size } = file.stat;
  // The stream closes the descriptor once made; until then (an empty file, or a consumer
  // that stops after the header) it is closed here.
  let streamed = false;
  try {
    yield entryHeader({ ...h, mode: file.stat.mode & modeMask, path, type: 'file', size });
    let sent = 0;
    if (size > 0) {
      streamed = true;
      for await (const chunk of createReadStream('', { fd: file.fd, start: 0, end: size - 1 })) {
        const c = chunk as Buffer;
        sent += c.length;
        yield c;
      }
    }
    if (sent !== size) throw new Error(`${path} changed size while being read`);
  } finally {
    if (!streamed) closeSync(file.fd);
  }
  yield Buffer.alloc(padding(size));
}

/** The folder `name`, unless it was replaced by something else since it was listed. */
function openIfStillFolder(dir: Dir, name: string): Dir | undefined {
  try {
    return dir.openDir(name);
  } catch (err) {
    if (err instanceof BeneathError) return undefined;
    throw err;
  }
}
