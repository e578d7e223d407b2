/**
 * The receiving end of a code sync: a tar stream whose first entry is `.vendetta-sync.json`
 * ({delete: [paths]}), then the changed files. Deletes first, then extracts into the root,
 * keeping modes and mtimes. Nothing is ever written through a symlink or outside the root:
 * every parent folder is resolved on disk and must lie inside, files are written to a temp
 * file and renamed over their target (replacing a link, never following it).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, realpathSync, renameSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { SYNC_HEADER_ENTRY, type SyncHeader, type SyncSummary } from '../protocol';
import { AgentError, errnoCode } from '../errors';
import { readTar, type TarEntry } from '../tar/decode';
import { checkSymlinkTarget, isRootPath, relativeSegments, UnsafePath } from './safePath';

const MAX_HEADER = 64 * 1024 * 1024;

export function refused(message: string, cause?: unknown): AgentError {
  return new AgentError('SYNC_REFUSED', `The sync stream was refused: ${message}`, {
    hint: 'The sender must send relative paths inside the project, with links that stay inside it.',
    cause,
  });
}

class Receiver {
  private readonly realRoot: string;
  private readonly summary: SyncSummary = { written: 0, deleted: 0, bytes: 0 };
  /** Folder modes and mtimes, applied last (writing into a folder changes its mtime). */
  private readonly dirs: Array<{ abs: string; mode: number; mtimeMs: number }> = [];

  constructor(root: string, private readonly owner?: { uid: number; gid: number }) {
    this.realRoot = realpathSync(root);
  }

  /** What the receiver makes belongs to the workspace's login user, when it has one. */
  private own(abs: string): void {
    if (this.owner) lchownSync(abs, this.owner.uid, this.owner.gid);
  }

  private inside(real: string): boolean {
    const rel = relative(this.realRoot, real);
    return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
  }

  /**
   * The real folder that will hold `segments`' last part. Missing folders are made (when
   * `create`), a file in the way is replaced by a folder, and a symlinked folder is accepted
   * only when it resolves inside the root. Undefined when `create` is off and a folder is missing.
   */
  private parentOf(segments: string[], raw: string, create: boolean): string | undefined {
    let cur = this.realRoot;
    for (const seg of segments.slice(0, -1)) {
      const next = join(cur, seg);
      let st;
      try {
        st = lstatSync(next);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err;
        if (!create) return undefined;
        mkdirSync(next, { mode: 0o755 });
        this.own(next);
        cur = next;
        continue;
      }
      if (st.isSymbolicLink()) {
        let real: string;
        try {
          real = realpathSync(next);
        } catch {
          throw new UnsafePath(raw, `goes through the broken symlink ${seg}`);
        }
        if (!this.inside(real) || !lstatSync(real).isDirectory()) throw new UnsafePath(raw, `goes through the symlink ${seg}, which leads outside the project`);
        cur = real;
      } else if (st.isDirectory()) {
        cur = next;
      } else {
        if (!create) return undefined;
        rmSync(next, { force: true });
        mkdirSync(next, { mode: 0o755 });
        this.own(next);
        cur = next;
      }
    }
    return cur;
  }

  /** Makes room for a new entry: whatever is there (file, link, folder) goes. */
  private clear(abs: string, keepDir: boolean): void {
    let st;
    try {
      st = lstatSync(abs);
    } catch {
      return;
    }
    if (keepDir && st.isDirectory()) return;
    rmSync(abs, { recursive: true, force: true });
  }

  delete(raw: string): void {
    const segs = relativeSegments(raw);
    const parent = this.parentOf(segs, raw, false);
    if (!parent) return;
    const abs = join(parent, segs[segs.length - 1]!);
    try {
      lstatSync(abs);
    } catch {
      return; // already gone
    }
    rmSync(abs, { recursive: true, force: true }); // a symlink is removed, never followed
    this.summary.deleted++;
  }

  async extract(e: TarEntry): Promise<void> {
    if (isRootPath(e.path) && e.type === 'directory') return;
    const segs = relativeSegments(e.path);
    if (e.type === 'other') throw new UnsafePath(e.path, `has tar type ${JSON.stringify(e.typeflag)}; only files, folders and links are synced`);
    const parent = this.parentOf(segs, e.path, true)!;
    const abs = join(parent, segs[segs.length - 1]!);
    switch (e.type) {
      case 'directory':
        this.clear(abs, true);
        mkdirSync(abs, { recursive: true, mode: 0o755 });
        this.own(abs);
        this.dirs.push({ abs, mode: e.mode & 0o7777, mtimeMs: e.mtimeMs });
        return;
      case 'file':
        await this.writeFile(abs, parent, e);
        this.summary.written++;
        return;
      case 'symlink': {
        checkSymlinkTarget(e.path, e.linkname, relative(this.realRoot, parent).split(sep).join('/'));
        this.clear(abs, false);
        symlinkSync(e.linkname, abs);
        this.own(abs);
        lutimesSync(abs, e.mtimeMs / 1000, e.mtimeMs / 1000);
        this.summary.written++;
        return;
      }
      case 'hardlink': {
        const src = relativeSegments(e.linkname);
        const srcParent = this.parentOf(src, e.linkname, false);
        const srcAbs = srcParent && join(srcParent, src[src.length - 1]!);
        if (!srcAbs || !safeIsFile(srcAbs)) throw new UnsafePath(e.path, `is a hard link to ${JSON.stringify(e.linkname)}, which is not a file in the project`);
        this.clear(abs, false);
        linkSync(srcAbs, abs);
        this.summary.written++;
        return;
      }
      default:
        throw new UnsafePath(e.path, `has tar type ${JSON.stringify(e.typeflag)}; only files, folders and links are synced`);
    }
  }

  private async writeFile(abs: string, parent: string, e: TarEntry): Promise<void> {
    const tmp = join(parent, `.vendetta-sync-${process.pid}-${randomBytes(6).toString('hex')}`);
    const fh = await open(tmp, 'wx', 0o600); // O_EXCL: never opens an existing file or link
    try {
      for await (const chunk of e.body()) {
        let off = 0;
        while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
        this.summary.bytes += chunk.length;
      }
      if (this.owner) await fh.chown(this.owner.uid, this.owner.gid);
      await fh.chmod(e.mode & 0o7777);
      await fh.utimes(e.mtimeMs / 1000, e.mtimeMs / 1000);
      await fh.close();
    } catch (err) {
      await fh.close().catch(() => undefined);
      rmSync(tmp, { force: true });
      throw err;
    }
    try {
      this.clear(abs, false);
      renameSync(tmp, abs);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  finish(): SyncSummary {
    // Deepest first, so setting a folder's mtime is not undone by touching its child folder.
    for (const d of this.dirs.sort((a, b) => b.abs.length - a.abs.length)) {
      try {
        if (!lstatSync(d.abs).isDirectory()) continue;
        chmodSync(d.abs, d.mode);
        utimesSync(d.abs, d.mtimeMs / 1000, d.mtimeMs / 1000);
      } catch {
        // removed meanwhile by a later entry: nothing to set
      }
    }
    return this.summary;
  }
}

function safeIsFile(abs: string): boolean {
  try {
    return lstatSync(abs).isFile();
  } catch {
    return false;
  }
}

export function parseSyncHeader(text: string): SyncHeader {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw refused(`${SYNC_HEADER_ENTRY} is not JSON`, err);
  }
  const del = (v as { delete?: unknown } | null)?.delete;
  if (!v || typeof v !== 'object' || !Array.isArray(del) || !del.every((p) => typeof p === 'string')) {
    throw refused(`${SYNC_HEADER_ENTRY} must be {"delete": [paths]}`);
  }
  return { delete: del as string[] };
}

async function readAll(e: TarEntry, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of e.body()) {
    size += c.length;
    if (size > max) throw refused(`${SYNC_HEADER_ENTRY} is larger than ${max} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Applies one sync stream to `root` (which must exist); `owner` gets what is written. */
export async function receiveSync(root: string, input: AsyncIterable<Buffer | string>, owner?: { uid: number; gid: number }): Promise<SyncSummary> {
  const rx = new Receiver(root, owner);
  let first = true;
  try {
    for await (const entry of readTar(input)) {
      if (first) {
        first = false;
        if (entry.type !== 'file' || entry.path.replace(/^(\.\/)+/, '') !== SYNC_HEADER_ENTRY) {
          throw refused(`its first entry must be ${SYNC_HEADER_ENTRY}, got ${JSON.stringify(entry.path.slice(0, 200))}`);
        }
        const header = parseSyncHeader(await readAll(entry, MAX_HEADER));
        for (const p of header.delete) rx.delete(p);
        continue;
      }
      await rx.extract(entry);
    }
  } catch (err) {
    if (err instanceof UnsafePath) throw refused(err.message, err);
    if (err instanceof AgentError) throw err;
    if (err instanceof Error && (err.name === 'TruncatedTarError' || err.message.startsWith('tar:'))) throw refused(err.message, err);
    throw err;
  }
  if (first) throw refused(`it is empty; its first entry must be ${SYNC_HEADER_ENTRY}`);
  return rx.finish();
}
