/**
 * Working below a folder that someone else can change at the same time (a workspace's root
 * writes its bind-mounted project folder while the agent does): no write, rename, mkdir, chmod,
 * chown or delete can be steered out of it by a symlink planted mid-walk.
 *
 * Node has no openat, so every step goes through `/proc/self/fd/<dirfd>/<name>`: the kernel
 * resolves the magic link to the folder the descriptor holds (its inode, not a path the
 * workspace can swap), and only `<name>` is looked up in it — with O_NOFOLLOW, so a link there
 * is refused, never followed. Calls that never follow a final link (unlink, rmdir, rename, mkdir,
 * symlink, link, lchown, lutimes) get the same magic parent. Modes are set through descriptors
 * (fchmod), since chmod by path follows a final link.
 *
 * What can still happen: the workspace moves a folder we hold to elsewhere in the tree (a rename
 * across mounts fails with EXDEV), and we write there. It never leads outside.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  statSync,
  symlinkSync,
  unlinkSync,
  type Stats,
} from 'node:fs';
import { errnoCode } from '../errors';
import { BeneathError } from './beneathError';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY, O_NONBLOCK } = constants;
// Not in Node's constants; Linux's values on x86-64 and arm64, the architectures we run on.
const O_CLOEXEC = 0o2000000;
const O_PATH = 0o10000000;

/** Folders nested deeper than this are refused (each level holds a descriptor while deleted). */
export const MAX_DEPTH = 1024;
/** A delete that found its target swapped this many times in a row gives up. */
const MAX_RETRIES = 32;

function checkName(name: string, where: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new BeneathError('BAD_NAME', where, `${JSON.stringify(name.slice(0, 200))} is not a single path segment`);
  }
}

/** An open folder; `path` (relative to the root, for messages only) is never used to reach it. */
export class Dir {
  private closed = false;

  private constructor(
    readonly fd: number,
    readonly path: string,
  ) {}

  /**
   * The root of a tree, by absolute path: its own parents must be trusted (the agent's home).
   * The root itself must be a real folder, not a link. Checks that /proc/self/fd works.
   */
  static openRoot(abs: string): Dir {
    let fd: number;
    try {
      fd = openSync(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOTDIR' || code === 'ELOOP') {
        const link = lstatOrUndefined(abs)?.isSymbolicLink();
        throw new BeneathError(
          link ? 'LINK_IN_PATH' : 'NOT_A_FOLDER',
          abs,
          `${abs} is ${link ? 'a symlink' : 'not a folder'}`,
          err,
        );
      }
      throw err;
    }
    const dir = new Dir(fd, '');
    try {
      const held = fstatSync(fd);
      const seen = statSync(`/proc/self/fd/${fd}`);
      if (held.ino !== seen.ino || held.dev !== seen.dev) throw new Error('/proc/self/fd leads elsewhere');
    } catch (err) {
      dir.close();
      throw new BeneathError(
        'NO_PROC_FD',
        abs,
        `cannot work below ${abs} safely: /proc/self/fd does not lead to open folders here`,
        err,
      );
    }
    return dir;
  }

  /** The magic path of `name` in this folder; only the last segment is looked up by name. */
  at(name: string): string {
    checkName(name, this.path);
    return `/proc/self/fd/${this.fd}/${name}`;
  }

  private rel(name: string): string {
    return this.path ? `${this.path}/${name}` : name;
  }

  /** lstat of `name`, undefined when it is not there. */
  lstat(name: string): Stats | undefined {
    return lstatOrUndefined(this.at(name));
  }

  /** The names in this folder, unsorted. */
  names(): string[] {
    return readdirSync(`/proc/self/fd/${this.fd}`);
  }

  /** Opens the folder `name`; undefined when nothing is there; a link or a file is refused. */
  openDir(name: string): Dir | undefined {
    try {
      return new Dir(openSync(this.at(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), this.rel(name));
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return undefined;
      if (code === 'ENOTDIR' || code === 'ELOOP') throw this.notAFolder(name, err);
      throw err;
    }
  }

  private notAFolder(name: string, cause: unknown): BeneathError {
    const link = this.lstat(name)?.isSymbolicLink();
    const rel = this.rel(name);
    return new BeneathError(
      link ? 'LINK_IN_PATH' : 'NOT_A_FOLDER',
      rel,
      `${JSON.stringify(rel)} is ${link ? 'a symlink' : 'not a folder'}`,
      cause,
    );
  }

  /**
   * Opens the folder `name`, making it when missing; whatever else is in the way (a file, a
   * link) is removed first when `replace`, else refused. `made` runs on a folder just made.
   */
  ensureDir(name: string, mode: number, replace: boolean, made?: (d: Dir) => void): Dir {
    for (let i = 0; i < MAX_RETRIES; i++) {
      try {
        mkdirSync(this.at(name), { mode });
        const d = this.openDir(name);
        if (d) {
          made?.(d);
          return d;
        }
        continue; // removed right after we made it
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST' && !(err instanceof BeneathError)) throw err;
        if (err instanceof BeneathError && !replace) throw err;
      }
      try {
        const d = this.openDir(name);
        if (d) return d;
      } catch (err) {
        if (!(err instanceof BeneathError) || !replace) throw err;
        this.remove(name);
      }
    }
    throw new BeneathError(
      'KEEPS_CHANGING',
      this.rel(name),
      `${JSON.stringify(this.rel(name))} kept changing while a folder was made there`,
    );
  }

  /** A new file, exclusively created (an existing name, link or not, is an error); returns its fd. */
  createFile(name: string, mode: number): number {
    return openSync(this.at(name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  }

  /**
   * A regular file opened for reading, with its stat; undefined when it is missing, a link, or
   * not a regular file. Whatever is there is first only looked at (O_PATH: a device or fifo the
   * workspace planted is never opened), then that same inode is opened through its descriptor.
   */
  openFileForRead(name: string): { fd: number; stat: Stats } | undefined {
    let handle: number;
    try {
      handle = openSync(this.at(name), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const stat = fstatSync(handle);
      if (!stat.isFile()) return undefined;
      return { fd: openSync(`/proc/self/fd/${handle}`, O_RDONLY | O_NONBLOCK | O_CLOEXEC), stat };
    } finally {
      closeSync(handle);
    }
  }

  readlink(name: string): string {
    return readlinkSync(this.at(name));
  }

  /** Renames `from` here to `to` in `dest` (this folder by default), replacing a file or link there. */
  rename(from: string, to: string, dest: Dir = this): void {
    renameSync(this.at(from), dest.at(to));
  }

  symlink(target: string, name: string): void {
    symlinkSync(target, this.at(name));
  }

  /** A hard link `name` here to the file `fromName` in `from` (a link there is linked, not followed). */
  hardlink(from: Dir, fromName: string, name: string): void {
    linkSync(from.at(fromName), this.at(name));
  }

  /** lchown of `name`: a link itself is changed, never what it points to. */
  lchown(name: string, uid: number, gid: number): void {
    lchownSync(this.at(name), uid, gid);
  }

  lutimes(name: string, mtimeMs: number): void {
    lutimesSync(this.at(name), mtimeMs / 1000, mtimeMs / 1000);
  }

  /** Mode, owner and mtime of this folder itself, through its descriptor. */
  chmod(mode: number): void {
    fchmodSync(this.fd, mode);
  }

  chown(uid: number, gid: number): void {
    fchownSync(this.fd, uid, gid);
  }

  utimes(mtimeMs: number): void {
    futimesSync(this.fd, mtimeMs / 1000, mtimeMs / 1000);
  }

  /**
   * Removes `name`, whatever it is: files and links are unlinked (never followed), folders are
   * emptied through descriptors and removed. False when nothing was there.
   */
  remove(name: string): boolean {
    checkName(name, this.path);
    const first = this.unlinkUnlessFolder(name);
    if (first !== 'folder') return first === 'gone';
    this.removeAll([{ dir: this, names: [name] }]);
    return true;
  }

  /** Deletes everything in this folder (not the folder itself), through descriptors. */
  empty(): void {
    this.removeAll([{ dir: this, names: this.names() }]);
  }

  /** unlink of a file or link: 'gone' when done, 'missing' when nothing was there, 'folder' for a folder. */
  private unlinkUnlessFolder(name: string): 'gone' | 'missing' | 'folder' {
    try {
      unlinkSync(this.at(name));
      return 'gone';
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT') return 'missing';
      if (code === 'EISDIR' || (code === 'EPERM' && this.lstat(name)?.isDirectory())) return 'folder';
      throw err;
    }
  }

  /**
   * Depth first with an explicit stack (one descriptor per level, never a path): each frame
   * holds a folder and the names still to delete in it. A folder emptied is rmdir'ed by name in
   * its parent; if the workspace put something there meanwhile, the name goes back on the list.
   */
  private removeAll(stack: Frame[]): void {
    const bottom = stack[0]!.dir;
    let churn = 0;
    const again = (frame: Frame, name: string, path: string): void => {
      if (++churn > MAX_RETRIES * 32)
        throw new BeneathError(
          'KEEPS_CHANGING',
          path,
          `${JSON.stringify(path.slice(0, 200))} kept changing while it was deleted`,
        );
      frame.names.push(name);
    };
    try {
      while (stack.length > 0) {
        const top = stack[stack.length - 1]!;
        const name = top.names.pop();
        if (name === undefined) {
          stack.pop();
          if (top.dir === bottom) continue;
          top.dir.close();
          const parent = stack[stack.length - 1]!;
          const own = basename(top.dir.path);
          try {
            rmdirSync(parent.dir.at(own));
          } catch (err) {
            const code = errnoCode(err);
            if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOTDIR') again(parent, own, top.dir.path);
            else if (code !== 'ENOENT') throw err;
          }
          continue;
        }
        if (top.dir.unlinkUnlessFolder(name) !== 'folder') continue;
        let sub: Dir | undefined;
        try {
          sub = top.dir.openDir(name);
        } catch (err) {
          if (!(err instanceof BeneathError)) throw err;
          again(top, name, err.path); // swapped for a link or a file: unlinked on the next turn
          continue;
        }
        if (!sub) continue;
        if (stack.length > MAX_DEPTH) {
          sub.close();
          throw new BeneathError(
            'TOO_DEEP',
            sub.path,
            `${JSON.stringify(sub.path.slice(0, 200))} is nested more than ${MAX_DEPTH} folders deep`,
          );
        }
        stack.push({ dir: sub, names: sub.names() });
      }
    } finally {
      for (const { dir } of stack) if (dir !== bottom) dir.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

interface Frame {
  dir: Dir;
  names: string[];
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}
