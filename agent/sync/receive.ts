/**
 * The receiving end of a code sync: a tar stream whose first entry is `.vendetta-sync.json`
 * ({delete: [paths]}), then the changed files. Deletes first, then extracts into the root,
 * keeping permission bits (setuid, setgid and sticky dropped) and mtimes.
 *
 * The root is bind-mounted into a running workspace whose root can change it while we write, so
 * nothing here goes by path: every step is taken below a folder descriptor (agent/fs/beneath),
 * never through a link. Whatever is in the way of a path the stream sends (a file, a link, a
 * folder) is replaced, never written through; files are written to a temp file and renamed over
 * their target; deletes go through descriptors.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fchownSync, futimesSync, writeSync } from 'node:fs';
import { SYNC_HEADER_ENTRY, type SyncHeader, type SyncSummary } from '../protocol';
import { AgentError, errnoCode } from '../errors';
import { Dir } from '../fs/beneath';
import { BeneathError } from '../fs/beneathError';
import { openBeneath } from '../fs/beneathPaths';
import { readTar, type TarEntry } from '../../common/tar/decode';
import { checkSymlinkTarget, isRootPath, relativeSegments, UnsafePath } from './safePath';
import { OpenFolders, type Owner } from './openFolders';

const MAX_HEADER = 64 * 1024 * 1024;
/** Permission bits kept on receive: no setuid, setgid or sticky bit reaches the node. */
const PERMISSION_BITS = 0o777;

export function refused(message: string, cause?: unknown): AgentError {
  return new AgentError('SYNC_REFUSED', `The sync stream was refused: ${message}`, {
    hint: 'The sender must send relative paths inside the project, with links that stay inside it.',
    cause,
  });
}

/** The workspace changed the folder under the sync in a way we will not work through. */
function changedUnderUs(err: BeneathError): AgentError {
  return new AgentError(
    'SYNC_REFUSED',
    `The sync stopped at ${JSON.stringify(err.path.slice(0, 200))}: ${err.message}`,
    {
      hint: 'Something in the workspace kept changing its project folder while the code was synced; stop it and run the sync again.',
      cause: err,
    },
  );
}

function noProc(err: BeneathError): AgentError {
  return new AgentError('INTERNAL', `The agent cannot sync safely on this node: ${err.message}`, {
    hint: 'The agent works below the project folder through /proc/self/fd; mount /proc (it is there on every normal Linux system) and sync again.',
    cause: err,
  });
}

class Receiver {
  private readonly summary: SyncSummary = { written: 0, deleted: 0, bytes: 0 };
  /** Folder modes and mtimes, applied last (writing into a folder changes its mtime). */
  private readonly dirs: Array<{ segs: string[]; mode: number; mtimeMs: number }> = [];
  private readonly open: OpenFolders;

  constructor(
    root: string,
    private readonly owner?: Owner,
  ) {
    this.open = new OpenFolders(Dir.openRoot(root), owner);
  }

  delete(raw: string): void {
    const segs = relativeSegments(raw);
    const parent = this.open.get(segs.slice(0, -1), false);
    if (!parent) return; // not there (or under a link the workspace made: nothing of ours)
    this.open.drop(segs.length - 1);
    if (parent.remove(segs[segs.length - 1]!)) this.summary.deleted++;
  }

  /** One entry; what vanished under us (ENOENT: the workspace deleted a folder we held) is said so. */
  async extract(e: TarEntry): Promise<void> {
    try {
      await this.extractEntry(e);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT')
        throw new BeneathError(
          'KEEPS_CHANGING',
          e.path,
          `${JSON.stringify(e.path.slice(0, 200))}: its folder was deleted while it was written`,
          err,
        );
      throw err;
    }
  }

  private async extractEntry(e: TarEntry): Promise<void> {
    if (isRootPath(e.path) && e.type === 'directory') return;
    const segs = relativeSegments(e.path);
    if (e.type === 'other')
      throw new UnsafePath(
        e.path,
        `has tar type ${JSON.stringify(e.typeflag)}; only files, folders and links are synced`,
      );
    const name = segs[segs.length - 1]!;
    const parentSegs = segs.slice(0, -1);
    switch (e.type) {
      case 'directory':
        this.open.get(segs, true);
        this.dirs.push({ segs, mode: e.mode & PERMISSION_BITS, mtimeMs: e.mtimeMs });
        return;
      case 'file': {
        // O_EXCL | O_NOFOLLOW: never an existing file or link
        const { parent, tmp, made: fd } = this.makeTemp(parentSegs, (d, t) => d.createFile(t, 0o600));
        await this.writeFile(parent, parentSegs.length, fd, tmp, name, e);
        this.summary.written++;
        return;
      }
      case 'symlink': {
        checkSymlinkTarget(e.path, e.linkname, parentSegs.join('/'));
        const { parent, tmp } = this.makeTemp(parentSegs, (d, t) => d.symlink(e.linkname, t));
        this.place(parent, parentSegs.length, tmp, name, () => {
          if (this.owner) parent.lchown(tmp, this.owner.uid, this.owner.gid);
          parent.lutimes(tmp, e.mtimeMs);
        });
        this.summary.written++;
        return;
      }
      case 'hardlink': {
        const src = relativeSegments(e.linkname);
        const srcName = src[src.length - 1]!;
        const notAFile = new UnsafePath(
          e.path,
          `is a hard link to ${JSON.stringify(e.linkname)}, which is not a file in the project`,
        );
        // Held apart from the open folders: the source and the target may lie in different ones.
        let srcParent: Dir | undefined;
        try {
          srcParent = openBeneath(this.open.root, src.slice(0, -1));
        } catch (err) {
          if (err instanceof BeneathError && (err.code === 'LINK_IN_PATH' || err.code === 'NOT_A_FOLDER'))
            throw notAFile;
          throw err;
        }
        if (!srcParent) throw notAFile;
        try {
          if (!srcParent.lstat(srcName)?.isFile()) throw notAFile;
          const { parent, tmp } = this.makeTemp(parentSegs, (d, t) => d.hardlink(srcParent, srcName, t));
          this.place(parent, parentSegs.length, tmp, name);
        } finally {
          if (srcParent !== this.open.root) srcParent.close();
        }
        this.summary.written++;
        return;
      }
      default:
        throw new UnsafePath(
          e.path,
          `has tar type ${JSON.stringify(e.typeflag)}; only files, folders and links are synced`,
        );
    }
  }

  /**
   * Makes a temp entry with `make` in the folder `parentSegs` (made if missing). A held folder
   * the workspace deleted meanwhile (ENOENT) is opened afresh, a few times.
   */
  private makeTemp<T>(
    parentSegs: string[],
    make: (parent: Dir, tmp: string) => T,
  ): { parent: Dir; tmp: string; made: T } {
    for (let attempt = 0; ; attempt++) {
      const parent = this.open.get(parentSegs, true)!;
      const tmp = tempName();
      try {
        return { parent, tmp, made: make(parent, tmp) };
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT' || attempt >= 3) throw err;
        this.open.drop(0);
      }
    }
  }

  private async writeFile(
    parent: Dir,
    depth: number,
    fd: number,
    tmp: string,
    name: string,
    e: TarEntry,
  ): Promise<void> {
    try {
      try {
        for await (const chunk of e.body()) {
          let off = 0;
          while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off);
          this.summary.bytes += chunk.length;
        }
        if (this.owner) fchownSync(fd, this.owner.uid, this.owner.gid);
        fchmodSync(fd, e.mode & PERMISSION_BITS);
        futimesSync(fd, e.mtimeMs / 1000, e.mtimeMs / 1000);
      } finally {
        closeSync(fd);
      }
      this.place(parent, depth, tmp, name);
    } catch (err) {
      removeQuietly(parent, tmp);
      throw err;
    }
  }

  /**
   * Renames the temp entry `tmp` over `name` (a file or link there is replaced atomically; a
   * folder is deleted first). `prepare` runs on the temp entry first.
   */
  private place(parent: Dir, depth: number, tmp: string, name: string, prepare?: () => void): void {
    try {
      prepare?.();
      try {
        parent.rename(tmp, name);
        return;
      } catch (err) {
        if (!['EISDIR', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR'].includes(errnoCode(err) ?? '')) throw err;
      }
      this.open.drop(depth); // a held folder may be the one replaced
      parent.remove(name);
      parent.rename(tmp, name);
    } catch (err) {
      removeQuietly(parent, tmp);
      throw err;
    }
  }

  finish(): SyncSummary {
    this.open.drop(0);
    // Deepest first, so setting a folder's mtime is not undone by touching its child folder.
    for (const d of this.dirs.sort((a, b) => b.segs.length - a.segs.length)) {
      let dir: Dir | undefined;
      try {
        dir = openBeneath(this.open.root, d.segs);
        if (!dir) continue; // removed meanwhile by a later entry: nothing to set
        dir.chmod(d.mode);
        dir.utimes(d.mtimeMs);
      } catch (err) {
        if (!(err instanceof BeneathError)) throw err; // replaced by a link or file meanwhile
      } finally {
        dir?.close();
      }
    }
    return this.summary;
  }

  close(): void {
    this.open.close();
  }
}

function tempName(): string {
  return `.vendetta-sync-${process.pid}-${randomBytes(6).toString('hex')}`;
}

function removeQuietly(parent: Dir, name: string): void {
  try {
    parent.remove(name);
  } catch {
    // the error that brought us here is the one to report
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

/**
 * Applies one sync stream to `root` (which must exist); `owner` gets what is written; `touched`
 * hears each path the stream deletes or writes (relative, as `a/b`).
 */
export async function receiveSync(
  root: string,
  input: AsyncIterable<Buffer | string>,
  owner?: Owner,
  touched?: (path: string) => void,
): Promise<SyncSummary> {
  let rx: Receiver | undefined;
  let first = true;
  try {
    rx = new Receiver(root, owner);
    for await (const entry of readTar(input)) {
      if (first) {
        first = false;
        if (entry.type !== 'file' || entry.path.replace(/^(\.\/)+/, '') !== SYNC_HEADER_ENTRY) {
          throw refused(
            `its first entry must be ${SYNC_HEADER_ENTRY}, got ${JSON.stringify(entry.path.slice(0, 200))}`,
          );
        }
        const header = parseSyncHeader(await readAll(entry, MAX_HEADER));
        for (const p of header.delete) {
          rx.delete(p);
          touched?.(relativeSegments(p).join('/'));
        }
        continue;
      }
      await rx.extract(entry);
      if (entry.type !== 'directory' && !isRootPath(entry.path)) touched?.(relativeSegments(entry.path).join('/'));
    }
    if (first) throw refused(`it is empty; its first entry must be ${SYNC_HEADER_ENTRY}`);
    return rx.finish();
  } catch (err) {
    if (err instanceof UnsafePath) throw refused(err.message, err);
    if (err instanceof BeneathError)
      throw err.code === 'NO_PROC_FD'
        ? noProc(err)
        : err.code === 'BAD_NAME'
          ? refused(err.message, err)
          : changedUnderUs(err);
    if (err instanceof AgentError) throw err;
    if (err instanceof Error && (err.name === 'TruncatedTarError' || err.message.startsWith('tar:')))
      throw refused(err.message, err);
    throw err;
  } finally {
    rx?.close();
  }
}
