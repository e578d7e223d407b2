/**
 * Answers the sync's questions about a project folder on the node (protocol/sync.ts), path by
 * path: the folder is never walked, so what the workspace made besides the synced files costs
 * nothing, and nothing is ever followed: parents are opened one segment at a time below the
 * root's descriptor (fs/beneath.ts; a symlink or a file there makes the path "blocked"), files
 * are opened with O_NOFOLLOW|O_NONBLOCK and must still be the file that was lstat'ed. A file is
 * read (hashed) only when its stat differs from the one the coordinator saw last.
 */
import { createHash } from 'node:crypto';
import { closeSync, read, type Stats } from 'node:fs';
import { Dir } from '../fs/beneath';
import { BeneathError } from '../fs/beneathError';
import { openBeneath } from '../fs/beneathPaths';
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

function readAt(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n))),
  );
}
const CHUNK = 256 * 1024;
/** Files hashed at once: enough to hide the disk's latency, few enough to keep memory flat. */
const PARALLEL = 8;

export interface NodeEntry {
  kind?: NodeEntryKind;
  id?: string;
  stat?: NodeStatKey;
}

/** What a lookup found; a file to be read comes already open (fd), so nothing can be swapped in between. */
type Located =
  | { kind: 'none' }
  | { kind: 'blocked' }
  | { kind: 'folder'; st: Stats }
  | { kind: 'special'; st: Stats }
  | { kind: 'symlink'; st: Stats; target: string }
  | { kind: 'file'; st: Stats; fd?: number };

function statKey(st: Stats): NodeStatKey {
  return { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: st.mode };
}

export function sameStat(a: NodeStatKey | undefined, b: NodeStatKey | undefined): boolean {
  return (
    !!a &&
    !!b &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.ctimeMs === b.ctimeMs &&
    a.ino === b.ino &&
    a.mode === b.mode
  );
}

async function sha256Of(fd: number): Promise<string> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  for (let pos = 0; ; ) {
    const bytesRead = await readAt(fd, buf, 0, CHUNK, pos);
    if (bytesRead === 0) return hash.digest('hex');
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
}

/**
 * Lookups below one root. The folder of the last lookup stays open (the coordinator asks in
 * path order, so neighbours share it); close() releases every descriptor.
 */
export class NodeFolder {
  private root: Dir | undefined;
  private last: { key: string; dir: Dir | 'none' | 'blocked' } | undefined;

  constructor(private readonly rootPath: string) {}

  private parentOf(segs: readonly string[]): Dir | 'none' | 'blocked' {
    const key = segs.slice(0, -1).join('/');
    if (this.last?.key === key) return this.last.dir;
    this.root ??= Dir.openRoot(this.rootPath);
    let dir: Dir | 'none' | 'blocked';
    try {
      dir = openBeneath(this.root, segs.slice(0, -1)) ?? 'none';
    } catch (err) {
      if (!(err instanceof BeneathError) || (err.code !== 'LINK_IN_PATH' && err.code !== 'NOT_A_FOLDER')) throw err;
      dir = 'blocked';
    }
    this.dropLast();
    this.last = { key, dir };
    return dir;
  }

  private dropLast(): void {
    if (this.last && typeof this.last.dir === 'object' && this.last.dir !== this.root) this.last.dir.close();
    this.last = undefined;
  }

  close(): void {
    this.dropLast();
    this.root?.close();
    this.root = undefined;
  }

  /** What is at `path` (all synchronous: no other lookup closes the folder meanwhile); `open` opens a file. */
  private locate(path: string, open: (st: Stats) => boolean): Located {
    const segs = relativeSegments(path);
    const dir = this.parentOf(segs);
    if (dir === 'none' || dir === 'blocked') return { kind: dir };
    const name = segs[segs.length - 1]!;
    const st = dir.lstat(name);
    if (!st) return { kind: 'none' };
    if (st.isDirectory()) return { kind: 'folder', st };
    if (st.isSymbolicLink()) return { kind: 'symlink', st, target: dir.readlink(name) };
    if (!st.isFile()) return { kind: 'special', st };
    if (!open(st)) return { kind: 'file', st };
    const opened = dir.openFileForRead(name);
    if (opened && opened.stat.ino === st.ino && opened.stat.dev === st.dev) return { kind: 'file', st, fd: opened.fd };
    if (opened) closeSync(opened.fd);
    // Swapped for something else between lstat and open: the workspace is busy with it.
    return { kind: 'special', st };
  }

  /** The content id at `path`; a file is hashed only when its stat is not `known.stat`. */
  async entry(path: string, known?: SyncScanEntry): Promise<NodeEntry> {
    const at = this.locate(path, (st) => !(known?.id && sameStat(known.stat, statKey(st))));
    if (at.kind === 'none') return {};
    if (at.kind === 'blocked') return { kind: 'blocked', id: BLOCKED_ID };
    const stat = statKey(at.st);
    if (at.kind === 'folder') return { kind: 'folder', id: FOLDER_ID, stat };
    if (at.kind === 'special') return { kind: 'special', id: SPECIAL_ID, stat };
    if (at.kind === 'symlink')
      return { kind: 'symlink', id: linkContentId(createHash('sha256').update(at.target).digest('hex')), stat };
    if (at.fd === undefined) return { kind: 'file', id: known!.id!, stat };
    try {
      return { kind: 'file', id: fileContentId(await sha256Of(at.fd), (at.st.mode & 0o111) !== 0), stat };
    } finally {
      closeSync(at.fd);
    }
  }

  /** One file's bytes (or a link's target), for a person comparing the two sides of a conflict. */
  async read(path: string): Promise<SyncReadResult> {
    const at = this.locate(path, (st) => st.size <= SYNC_READ_MAX_BYTES);
    if (at.kind === 'none') return {};
    if (at.kind === 'symlink') return { kind: 'symlink', content: at.target, encoding: 'utf8' };
    if (at.kind !== 'file') return { kind: at.kind };
    if (at.fd === undefined) return { kind: 'file', size: at.st.size };
    try {
      const buf = Buffer.alloc(SYNC_READ_MAX_BYTES + 1);
      let got = 0;
      while (got < buf.length) {
        const n = await readAt(at.fd, buf, got, buf.length - got, got);
        if (n === 0) break;
        got += n;
      }
      // Grown past the cap while read: the size says so and nothing partial is shown.
      if (got > SYNC_READ_MAX_BYTES) return { kind: 'file', size: got };
      return { kind: 'file', content: buf.subarray(0, got).toString('base64'), encoding: 'base64', size: got };
    } finally {
      closeSync(at.fd);
    }
  }
}

/** The entries whose node side differs from what the coordinator expects (or only moved its stat). */
export async function scanEntries(root: string, entries: readonly SyncScanEntry[]): Promise<SyncScanChange[]> {
  const folder = new NodeFolder(root);
  try {
    return await scanWith(folder, entries);
  } finally {
    folder.close();
  }
}

/** One file of the folder, for syncRead. */
export async function readEntry(root: string, path: string): Promise<SyncReadResult> {
  const folder = new NodeFolder(root);
  try {
    return await folder.read(path);
  } finally {
    folder.close();
  }
}

async function scanWith(folder: NodeFolder, entries: readonly SyncScanEntry[]): Promise<SyncScanChange[]> {
  const now: NodeEntry[] = new Array<NodeEntry>(entries.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const i = next++;
      now[i] = await folder.entry(entries[i]!.path, entries[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, entries.length) }, worker));
  return changesOf(entries, now);
}

/** What the scan answers: the entries whose `now` differs from what was expected (or only moved its stat). */
export function changesOf(entries: readonly SyncScanEntry[], now: readonly NodeEntry[]): SyncScanChange[] {
  const changes: SyncScanChange[] = [];
  entries.forEach((want, i) => {
    const n = now[i]!;
    if (n.id === want.id) {
      if (n.stat && !sameStat(n.stat, want.stat)) changes.push({ i, stat: n.stat });
    } else {
      changes.push({
        i,
        ...(n.kind ? { kind: n.kind } : {}),
        ...(n.id ? { id: n.id } : {}),
        ...(n.stat ? { stat: n.stat } : {}),
      });
    }
  });
  return changes;
}
