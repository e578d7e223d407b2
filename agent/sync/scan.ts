/**
 * Answers the sync's questions about a project folder on the node (protocol/sync.ts), path by
 * path: the folder is never walked, so what the workspace made besides the synced files costs
 * nothing, and nothing is ever followed: each parent folder is lstat'ed (a symlink or a file there
 * makes the path "blocked"), files are opened with O_NOFOLLOW|O_NONBLOCK and must still be the
 * file that was lstat'ed. A file is read (hashed) only when its stat differs from the one the
 * coordinator saw last.
 */
import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, open, readlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../errors';
import {
  BLOCKED_ID,
  fileContentId,
  FOLDER_ID,
  linkContentId,
  SPECIAL_ID,
  SYNC_READ_MAX_BYTES,
  type NodeEntryKind,
  type NodeStatKey,
  type SyncReadResult,
  type SyncScanChange,
  type SyncScanEntry,
} from '../protocol';
import { relativeSegments } from './safePath';

const CHUNK = 256 * 1024;
/** Files hashed at once: enough to hide the disk's latency, few enough to keep memory flat. */
const PARALLEL = 8;

export interface NodeEntry {
  kind?: NodeEntryKind;
  id?: string;
  stat?: NodeStatKey;
}

type Located = { kind: 'none' } | { kind: 'blocked' } | { kind: 'there'; abs: string; st: Stats };

function statKey(st: Stats): NodeStatKey {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode };
}

export function sameStat(a: NodeStatKey | undefined, b: NodeStatKey | undefined): boolean {
  return !!a && !!b && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino && a.mode === b.mode;
}

/** Opens the file `st` describes, or undefined when something else (a link, a FIFO) is there now. */
async function openSame(abs: string, st: Stats): Promise<FileHandle | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (['ENOENT', 'ELOOP', 'ENOTDIR', 'ENXIO'].includes(errnoCode(err) ?? '')) return undefined;
    throw err;
  }
  const now = await fh.stat();
  if (now.isFile() && now.ino === st.ino && now.dev === st.dev) return fh;
  await fh.close();
  return undefined;
}

async function sha256Of(fh: FileHandle): Promise<string> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  for (let pos = 0; ; ) {
    const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
    if (bytesRead === 0) return hash.digest('hex');
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
}

/** Lookups below one root; each parent folder is lstat'ed once per instance. */
export class NodeFolder {
  private readonly dirs = new Map<string, Promise<'dir' | 'none' | 'blocked'>>();

  constructor(private readonly root: string) {}

  private dirState(rel: string): Promise<'dir' | 'none' | 'blocked'> {
    let state = this.dirs.get(rel);
    if (!state) {
      state = lstat(join(this.root, rel)).then(
        (st) => (st.isDirectory() ? 'dir' : 'blocked'),
        (err: unknown) => {
          if (errnoCode(err) === 'ENOENT') return 'none';
          if (errnoCode(err) === 'ENOTDIR') return 'blocked';
          throw err;
        },
      );
      this.dirs.set(rel, state);
    }
    return state;
  }

  /** What is at `path`, its parents checked one by one (a symlinked parent is never followed). */
  async locate(path: string): Promise<Located> {
    const segs = relativeSegments(path);
    for (let n = 1; n < segs.length; n++) {
      const state = await this.dirState(segs.slice(0, n).join('/'));
      if (state !== 'dir') return { kind: state };
    }
    const abs = join(this.root, ...segs);
    try {
      return { kind: 'there', abs, st: await lstat(abs) };
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return { kind: 'none' };
      if (errnoCode(err) === 'ENOTDIR') return { kind: 'blocked' };
      throw err;
    }
  }

  /** The content id at `path`; a file is hashed only when its stat is not `known.stat`. */
  async entry(path: string, known?: SyncScanEntry): Promise<NodeEntry> {
    const at = await this.locate(path);
    if (at.kind === 'none') return {};
    if (at.kind === 'blocked') return { kind: 'blocked', id: BLOCKED_ID };
    const { abs, st } = at;
    const stat = statKey(st);
    if (st.isDirectory()) return { kind: 'folder', id: FOLDER_ID, stat };
    if (st.isSymbolicLink()) return { kind: 'symlink', id: linkContentId(createHash('sha256').update(await readlink(abs)).digest('hex')), stat };
    if (!st.isFile()) return { kind: 'special', id: SPECIAL_ID, stat };
    if (known?.id && sameStat(known.stat, stat)) return { kind: 'file', id: known.id, stat };
    const fh = await openSame(abs, st);
    // Swapped for something else between lstat and open: the workspace is busy with it; say so.
    if (!fh) return { kind: 'special', id: SPECIAL_ID };
    try {
      return { kind: 'file', id: fileContentId(await sha256Of(fh), (st.mode & 0o111) !== 0), stat };
    } finally {
      await fh.close();
    }
  }

  /** One file's bytes (or a link's target), for a person comparing the two sides of a conflict. */
  async read(path: string): Promise<SyncReadResult> {
    const at = await this.locate(path);
    if (at.kind === 'none') return {};
    if (at.kind === 'blocked') return { kind: 'blocked' };
    const { abs, st } = at;
    if (st.isDirectory()) return { kind: 'folder' };
    if (st.isSymbolicLink()) return { kind: 'symlink', content: await readlink(abs), encoding: 'utf8' };
    if (!st.isFile()) return { kind: 'special' };
    if (st.size > SYNC_READ_MAX_BYTES) return { kind: 'file', size: st.size };
    const fh = await openSame(abs, st);
    if (!fh) return { kind: 'special' };
    try {
      const buf = Buffer.alloc(Math.min(st.size, SYNC_READ_MAX_BYTES) + 1);
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      // Grown past the cap while read: the size says so and nothing partial is shown.
      if (got > SYNC_READ_MAX_BYTES) return { kind: 'file', size: got };
      return { kind: 'file', content: buf.subarray(0, got).toString('base64'), encoding: 'base64', size: got };
    } finally {
      await fh.close();
    }
  }
}

/** The entries whose node side differs from what the coordinator expects (or only moved its stat). */
export async function scanEntries(root: string, entries: readonly SyncScanEntry[]): Promise<SyncScanChange[]> {
  const folder = new NodeFolder(root);
  const changes: SyncScanChange[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const i = next++;
      const want = entries[i]!;
      const now = await folder.entry(want.path, want);
      if (now.id === want.id) {
        if (now.stat && !sameStat(now.stat, want.stat)) changes.push({ i, stat: now.stat });
      } else {
        changes.push({ i, ...(now.kind ? { kind: now.kind } : {}), ...(now.id ? { id: now.id } : {}), ...(now.stat ? { stat: now.stat } : {}) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, entries.length) }, worker));
  return changes.sort((a, b) => a.i - b.i);
}
