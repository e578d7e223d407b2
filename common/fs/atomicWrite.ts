/**
 * Crash-safe file writes: a reader (or a crash at any instant) sees the old content or the new,
 * never a torn file. Write a temp file beside the target (same folder, so the rename cannot cross
 * file systems), write until every byte is out, fsync it, rename it over the target, fsync the folder.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** File mode of the result; private by default. */
  mode?: number;
  /** Create the folder (private) when it is missing, instead of failing. */
  createDir?: boolean;
}

export interface AsyncAtomicWriteOptions extends AtomicWriteOptions {
  /**
   * Asked once the bytes are on disk, in the same tick as the rename: false drops this write (a newer
   * one of the same file, written meanwhile, must stay), and the call resolves false.
   */
  stillWanted?: () => boolean;
}

function tempBeside(target: string): string {
  return join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/**
 * Errors of file systems that refuse fsync on a folder (some FUSE and network mounts, Windows
 * shares): the rename has happened, only its durability is not promised there.
 */
export function isDirFsyncRefusal(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' && ['EINVAL', 'EISDIR', 'ENOTSUP', 'EOPNOTSUPP', 'EPERM', 'EACCES', 'EBADF'].includes(code)
  );
}

export function writeFileAtomicSync(target: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  const dir = dirname(target);
  if (opts.createDir) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = tempBeside(target);
  const fd = openSync(tmp, 'wx', opts.mode ?? 0o600);
  try {
    const bytes = toBytes(data);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirSync(dir);
}

/** The same without blocking the event loop; resolves false when `stillWanted` dropped it. */
export async function writeFileAtomic(
  target: string,
  data: string | Uint8Array,
  opts: AsyncAtomicWriteOptions = {},
): Promise<boolean> {
  const dir = dirname(target);
  if (opts.createDir) await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = tempBeside(target);
  const fh = await open(tmp, 'wx', opts.mode ?? 0o600);
  try {
    const bytes = toBytes(data);
    let off = 0;
    while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    if (opts.stillWanted && !opts.stillWanted()) {
      await rm(tmp, { force: true });
      return false;
    }
    // Sync, so no other write of the target can come between the question and the rename.
    if (opts.stillWanted) renameSync(tmp, target);
    else await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const dfh = await open(dir, 'r').catch((err: unknown) => {
    if (isDirFsyncRefusal(err)) return undefined;
    throw err;
  });
  if (!dfh) return true;
  try {
    await dfh.sync();
  } catch (err) {
    if (!isDirFsyncRefusal(err)) throw err;
  } finally {
    await dfh.close();
  }
  return true;
}

export function writeJsonAtomicSync(target: string, value: unknown, opts: AtomicWriteOptions = {}): void {
  writeFileAtomicSync(target, JSON.stringify(value, null, 2) + '\n', opts);
}

/** Makes the rename itself durable, where the file system lets a folder be fsynced. */
function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (err) {
    if (!isDirFsyncRefusal(err)) throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
