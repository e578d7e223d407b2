/**
 * One coordinator per VENDETTA_HOME: `coordinator.lock` holds the owner's pid. The file is
 * created whole (written beside, then hard-linked into place, which fails if it exists), so
 * nobody ever reads a half-written lock. A lock whose pid is dead (a kill -9'd coordinator) is
 * stale and replaced.
 */
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { VendettaError } from '../errors';
import type { HomePaths } from '../home';
import { assertTrustedHome } from '../homeTrust';
import type { Logger } from '../log';

export interface InstanceLock {
  readonly pid: number;
  /** Whether the lock file still names this process. */
  held(): boolean;
  /** Removes the lock if (and only if) it is still ours. */
  release(): void;
}

/** VENDETTA_HOME itself: a directory only its owner can enter, refused when someone else controls it. */
export function ensureHome(paths: HomePaths): void {
  const root = paths.root;
  mkdirSync(root, { recursive: true, mode: 0o700 });
  assertTrustedHome(paths);
  const st = statSync(root);
  if ((st.mode & 0o777) !== 0o700 && st.uid === process.getuid?.()) chmodSync(root, 0o700);
}

export function acquireInstanceLock(paths: HomePaths, log: Logger): InstanceLock {
  ensureHome(paths);
  const file = paths.lockFile;
  const mine = `${file}.${process.pid}`;
  writeFileSync(mine, `${process.pid}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(mine, file);
        return lockHandle(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = readLockPid(file);
      if (holder !== undefined && holder !== process.pid && isCoordinatorAlive(holder))
        throw alreadyRunning(paths.root, holder);
      log.warn('replacing a stale coordinator lock', { file, pid: holder });
      try {
        unlinkSync(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    throw new VendettaError('INTERNAL', `Could not take the lock ${file}`, {
      hint: 'Another coordinator kept starting at the same time; retry.',
    });
  } finally {
    rmSync(mine, { force: true });
  }
}

function lockHandle(file: string): InstanceLock {
  const pid = process.pid;
  return {
    pid,
    held: () => readLockPid(file) === pid,
    release: () => {
      if (readLockPid(file) === pid) rmSync(file, { force: true });
    },
  };
}

export function readLockPid(file: string): number | undefined {
  try {
    if (!lstatSync(file).isFile()) return undefined;
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a process runs. A zombie does not: a detached coordinator's parent is gone, and
 * whoever inherited it may reap it late, so a plain kill(pid, 0) would see it alive.
 */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill()
  }
}

/** The pid is alive and (where /proc tells) is a vendetta coordinator, not a recycled pid. */
export function isCoordinatorAlive(pid: number): boolean {
  if (!processRunning(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('coordinator');
  } catch {
    return true;
  }
}

export function alreadyRunning(home: string, pid: number | undefined): VendettaError {
  return new VendettaError(
    'ALREADY_RUNNING',
    `A coordinator is already running for ${home}${pid ? ` (pid ${pid})` : ''}`,
    {
      hint: 'Stop it first with `vendetta coordinator stop`, or set VENDETTA_HOME to another directory.',
      details: pid ? { pid } : undefined,
    },
  );
}
