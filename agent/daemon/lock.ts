/**
 * One daemon per agent home: a pid lock file. It is created atomically and complete (written
 * to a temp file, then hard-linked into place, which fails if the lock exists), so a reader
 * never sees a half-written lock. A lock whose process is gone (killed daemon, reused pid,
 * zombie) is stale; removing it is serialized by a short-lived `.break` file, so two starters
 * that both found it stale cannot remove a fresh lock the other one just took.
 */
import { closeSync, linkSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { errnoCode } from '../errors';

export interface LockHolder {
  pid: number;
  startedAt: string;
}

export type AcquireResult = { acquired: true } | { acquired: false; holder: LockHolder };

/** A `.break` file older than this belongs to a starter that died mid-break. */
const BREAK_STALE_MS = 5_000;

export function parseLock(raw: string): LockHolder | undefined {
  try {
    const v = JSON.parse(raw) as Partial<LockHolder> | null;
    if (
      v &&
      typeof v === 'object' &&
      Number.isSafeInteger(v.pid) &&
      (v.pid as number) > 0 &&
      typeof v.startedAt === 'string'
    ) {
      return { pid: v.pid as number, startedAt: v.startedAt };
    }
  } catch {
    // not JSON: treated as stale
  }
  return undefined;
}

/** Is `pid` a live agent daemon? A zombie, or a pid reused by an unrelated program, is not. */
export function isDaemonAlive(pid: number, procRoot = '/proc'): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (errnoCode(err) !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`${procRoot}/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
    const argv = readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('daemon');
  } catch (err) {
    // No /proc (or it vanished between the calls): the kill(0) answer stands.
    return errnoCode(err) !== 'ENOENT' || !existsProc(procRoot);
  }
}

function existsProc(procRoot: string): boolean {
  try {
    return statSync(`${procRoot}/self`).isDirectory();
  } catch {
    return false;
  }
}

function readRaw(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

/** The live daemon holding the lock, if any. */
export function lockHolder(file: string): LockHolder | undefined {
  const raw = readRaw(file);
  const holder = raw === undefined ? undefined : parseLock(raw);
  return holder && isDaemonAlive(holder.pid) ? holder : undefined;
}

export function acquireLock(file: string, self: LockHolder): AcquireResult {
  const content = JSON.stringify(self) + '\n';
  for (let attempt = 0; attempt < 50; attempt++) {
    if (createExclusive(file, content)) return { acquired: true };
    const raw = readRaw(file);
    if (raw === undefined) continue; // released between our link and our read
    const holder = parseLock(raw);
    if (holder?.pid === self.pid) return { acquired: true };
    if (holder && isDaemonAlive(holder.pid)) return { acquired: false, holder };
    breakStale(file, raw);
  }
  throw new Error(`could not take the daemon lock ${file}: it keeps changing`);
}

/** Removes the lock if it is still ours (a stale-lock breaker may have replaced it). */
export function releaseLock(file: string, pid: number): void {
  const raw = readRaw(file);
  if (raw !== undefined && parseLock(raw)?.pid === pid) rmSync(file, { force: true });
}

function createExclusive(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

function breakStale(file: string, staleRaw: string): void {
  const breaker = `${file}.break`;
  let fd: number;
  try {
    fd = openSync(breaker, 'wx', 0o600);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    try {
      if (Date.now() - statSync(breaker).mtimeMs > BREAK_STALE_MS) rmSync(breaker, { force: true });
    } catch {
      // removed meanwhile
    }
    sleepSync(20);
    return;
  }
  closeSync(fd);
  try {
    // Only the exact content we judged stale is removed; nobody can replace it while we hold `.break`.
    if (readRaw(file) === staleRaw) unlinkSync(file);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  } finally {
    rmSync(breaker, { force: true });
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
