/**
 * Brings the project's copy inside a VM without a 9p share to the node folder (the agent's copy,
 * which the coordinator's sync writes), over the agent's held SSH connection. Three-way, like the
 * coordinator's sync: `guest-copy.json` in the VM's folder holds what the last push left in the
 * guest (content id per path, and the node file's stat, so only changed files are hashed). A
 * path the node changed since is sent only when the guest still holds what the last push left
 * there (or the path is `forced`: the coordinator just decided it against the guest's own state);
 * a path the guest changed is kept: nothing made in the guest is overwritten, and the next scan
 * (which reads the guest) shows it as the workspace's change. Files go as one tar stream into the
 * guest's `tar -x`; the node folder is read below its descriptor, never through a link.
 */
import { readFileSync } from 'node:fs';
import { writeJsonAtomicSync } from '../../../common/fs/atomicWrite';
import { entryHeader } from '../../../common/tar/encode';
import { BLOCK } from '../../../common/tar/header';
import { Dir, MAX_DEPTH } from '../../fs/beneath';
import { BeneathError } from '../../fs/beneathError';
import { openBeneath } from '../../fs/beneathPaths';
import type { NodeStatKey } from '../../protocol';
import { NodeFolder, type NodeEntry } from '../../sync/scan';
import { fileEntry } from '../../tar/directory';
import { dotted, guestEntries, guestFailed, runScript } from './guestTree';
import type { GuestConnection } from './guestSsh';

interface CopyBase {
  id: string;
  stat?: NodeStatKey;
}

export interface PushOptions {
  conn: GuestConnection;
  nodeFolder: string;
  guestFolder: string;
  /** The record of what the last push left in the guest. */
  baseFile: string;
  /** Who owns what is written in the guest (the workspace's login user); root when absent. */
  owner?: { uid: number; gid: number };
  /** Paths applied whatever the guest holds (the coordinator's sync just compared them with the guest). */
  forced?: ReadonlySet<string>;
}

export interface PushResult {
  written: number;
  deleted: number;
  /** Paths the node changed but the guest changed too: the guest's version stays. */
  keptInGuest: string[];
}

/** `$1` the project folder; the paths to delete (`./…`, NUL-separated) on stdin. */
const DELETE_SCRIPT = `cd -- "$1" 2>/dev/null || exit 0
xargs -0r rm -rf --`;
/** `$1` the project folder; a tar stream on stdin. Existing folders keep their owner and mode. */
const EXTRACT_SCRIPT = `mkdir -p -- "$1" && cd -- "$1" && exec tar -x --no-overwrite-dir -f -`;

export function loadBase(file: string): Map<string, CopyBase> {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { v?: unknown; files?: unknown };
    if (v?.v !== 1 || !v.files || typeof v.files !== 'object') return new Map();
    return new Map(
      Object.entries(v.files as Record<string, CopyBase>).filter(([, b]) => b && typeof b.id === 'string'),
    );
  } catch {
    return new Map(); // none yet (or unreadable): every path then compares by content
  }
}

function saveBase(file: string, base: ReadonlyMap<string, CopyBase>): void {
  writeJsonAtomicSync(file, { v: 1, files: Object.fromEntries(base) }, { mode: 0o600 });
}

/** The files and links below the node folder (relative paths), read below its descriptor. */
export function nodeTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: Dir, rel: string, depth: number): void => {
    if (depth > MAX_DEPTH) return;
    for (const name of dir.names().sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = dir.lstat(name);
      if (st?.isDirectory()) {
        let sub: Dir | undefined;
        try {
          sub = dir.openDir(name);
        } catch (err) {
          if (!(err instanceof BeneathError)) throw err;
        }
        if (!sub) continue;
        try {
          walk(sub, path, depth + 1);
        } finally {
          sub.close();
        }
      } else if (st?.isFile() || st?.isSymbolicLink()) out.push(path);
    }
  };
  const root_ = Dir.openRoot(root);
  try {
    walk(root_, '', 0);
  } finally {
    root_.close();
  }
  return out;
}

/** The node folder's content ids, hashing only files whose stat moved since the base. */
async function nodeState(root: string, base: ReadonlyMap<string, CopyBase>): Promise<Map<string, NodeEntry>> {
  const folder = new NodeFolder(root);
  const out = new Map<string, NodeEntry>();
  try {
    for (const path of nodeTree(root)) {
      const b = base.get(path);
      const e = await folder.entry(path, b ? { path, id: b.id, ...(b.stat ? { stat: b.stat } : {}) } : undefined);
      if (e.kind === 'file' || e.kind === 'symlink') out.set(path, e);
    }
  } finally {
    folder.close();
  }
  return out;
}

export async function pushToGuest(o: PushOptions): Promise<PushResult> {
  const base = loadBase(o.baseFile);
  const node = await nodeState(o.nodeFolder, base);
  const changed = [...new Set([...node.keys(), ...base.keys()])]
    .filter((p) => node.get(p)?.id !== base.get(p)?.id)
    .sort();
  const result: PushResult = { written: 0, deleted: 0, keptInGuest: [] };
  if (changed.length === 0) return result;
  // Known ids without a stat: every changed file in the guest is hashed.
  const guest = await guestEntries(
    o.conn,
    o.guestFolder,
    changed.map((path) => ({ path })),
  );
  const write: string[] = [];
  const remove: string[] = [];
  changed.forEach((path, i) => {
    const now = guest[i]!.id;
    const want = node.get(path);
    if (now === want?.id) {
      // Already what the node holds (both made the same change): the new base.
      if (want) base.set(path, { id: want.id!, ...(want.stat ? { stat: want.stat } : {}) });
      else base.delete(path);
    } else if (o.forced?.has(path) || now === base.get(path)?.id) {
      if (want) {
        write.push(path);
        // A folder in the way of a file is removed first (tar does not replace one).
        if (guest[i]!.kind === 'folder') remove.push(path);
      } else remove.push(path);
    } else {
      result.keptInGuest.push(path);
    }
  });
  if (remove.length > 0) {
    const r = await runScript(
      o.conn,
      DELETE_SCRIPT,
      [o.guestFolder],
      Buffer.from(remove.map((p) => `${dotted(p)}\0`).join('')),
    );
    if (r.exitCode !== 0) throw guestFailed('Deleting files', r);
    for (const p of remove) {
      if (!node.has(p)) {
        base.delete(p);
        result.deleted++;
      }
    }
    saveBase(o.baseFile, base);
  }
  if (write.length > 0) {
    const r = await runScript(o.conn, EXTRACT_SCRIPT, [o.guestFolder], tarOf(o.nodeFolder, write, o.owner));
    if (r.exitCode !== 0) throw guestFailed('Writing the project files', r);
    for (const p of write) {
      const want = node.get(p)!;
      base.set(p, { id: want.id!, ...(want.stat ? { stat: want.stat } : {}) });
    }
    result.written = write.length;
  }
  saveBase(o.baseFile, base);
  return result;
}

/**
 * The files and links at `paths` of the node folder as a tar stream, each folder above them
 * first (so the guest's tar makes it a real folder, never writing through a link there).
 */
async function* tarOf(
  root: string,
  paths: readonly string[],
  owner: { uid: number; gid: number } | undefined,
): AsyncGenerator<Buffer> {
  const ids = { uid: owner?.uid ?? 0, gid: owner?.gid ?? 0 };
  const folders = new Set<string>();
  const top = Dir.openRoot(root);
  try {
    for (const path of paths) {
      const segs = path.split('/');
      for (let i = 1; i < segs.length; i++) {
        const f = segs.slice(0, i).join('/');
        if (folders.has(f)) continue;
        folders.add(f);
        yield entryHeader({ ...ids, path: `${f}/`, type: 'directory', mode: 0o755 });
      }
      let dir: Dir | undefined;
      try {
        dir = openBeneath(top, segs.slice(0, -1));
      } catch (err) {
        if (!(err instanceof BeneathError)) throw err;
      }
      if (!dir) continue; // gone meanwhile: the next push sees it
      try {
        yield* entryOf(dir, segs[segs.length - 1]!, path, ids);
      } finally {
        if (dir !== top) dir.close();
      }
    }
  } finally {
    top.close();
  }
  yield Buffer.alloc(BLOCK * 2);
}

async function* entryOf(
  dir: Dir,
  name: string,
  path: string,
  ids: { uid: number; gid: number },
): AsyncGenerator<Buffer> {
  const st = dir.lstat(name);
  if (!st) return;
  const common = { ...ids, path, mode: st.mode & 0o777, mtimeMs: st.mtimeMs };
  if (st.isSymbolicLink()) yield entryHeader({ ...common, type: 'symlink', linkname: dir.readlink(name) });
  else if (st.isFile()) yield* fileEntry(dir, name, path, { ...ids, mtimeMs: st.mtimeMs }, 0o777);
}
