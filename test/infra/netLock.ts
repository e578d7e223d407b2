/**
 * Which test run owns which network index K: a lock file per K holding the owner's pid (and its
 * start time, so a reused pid is not mistaken for the owner), and the removal of everything
 * named after a K whose owner died (processes by PID, namespaces, links, users, files).
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  commandExists,
  killPids,
  pidAlive,
  processCmdline,
  processesOfUid,
  processStartTime,
  run,
  sleepSync,
  waitGoneSync,
} from './sys';

export const TEST_NET_DIR = '/tmp/vendetta-test-net';
const MAX_K = 200;

export const lockPath = (k: number) => join(TEST_NET_DIR, `${k}.json`);
export const runDir = (k: number) => join(TEST_NET_DIR, `${k}.d`);
/** Every resource name derived from K (node numbers I are 1-based). */
export const names = (k: number) => ({
  bridge: `vtb${k}`,
  netns: (i: number) => `vt${k}n${i}`,
  veth: (i: number) => `vt${k}v${i}`,
  user: (i: number) => `vt${k}u${i}`,
  ip: (i: number) => `10.78.${k}.${10 + i}`,
  bridgeIp: `10.78.${k}.1`,
  netnsRe: new RegExp(`^vt${k}n\\d+$`),
  vethRe: new RegExp(`^vt${k}v\\d+$`),
  userRe: new RegExp(`^vt${k}u\\d+$`),
});

export interface LockInfo {
  pid: number;
  startTime?: string;
  label: string;
  created: string;
  sshdPids: number[];
}

function readLock(file: string): LockInfo | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

function lockIsLive(file: string, info: LockInfo | undefined): boolean {
  if (!info) {
    // Created but not written yet, or garbage: live while young.
    try {
      return Date.now() - statSync(file).mtimeMs < 10_000;
    } catch {
      return false;
    }
  }
  return pidAlive(info.pid) && (!info.startTime || processStartTime(info.pid) === info.startTime);
}

export function myLock(label: string): LockInfo {
  return {
    pid: process.pid,
    startTime: processStartTime(process.pid),
    label,
    created: new Date().toISOString(),
    sshdPids: [],
  };
}

/** Takes a free K, clearing a dead owner's leftovers first. */
export function acquireK(label: string): number {
  mkdirSync(TEST_NET_DIR, { recursive: true, mode: 0o755 });
  chmodSync(TEST_NET_DIR, 0o755);
  for (let k = 1; k <= MAX_K; k++) {
    const file = lockPath(k);
    try {
      writeFileSync(file, JSON.stringify(myLock(label)), { flag: 'wx' });
      cleanupK(k, undefined);
      return k;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const info = readLock(file);
    if (lockIsLive(file, info)) continue;
    // Stale: move it aside atomically so only one reclaimer proceeds.
    const aside = `${file}.reclaim-${process.pid}`;
    try {
      renameSync(file, aside);
    } catch {
      continue;
    }
    const taken = readLock(aside);
    if (lockIsLive(aside, taken)) {
      // Someone re-took K between our read and rename: give it back.
      try {
        renameSync(aside, file);
      } catch {
        // nothing to do
      }
      continue;
    }
    cleanupK(k, taken);
    unlinkSync(aside);
    try {
      writeFileSync(file, JSON.stringify(myLock(label)), { flag: 'wx' });
      return k;
    } catch {
      continue;
    }
  }
  throw new Error(`No free test network index in 1..${MAX_K} under ${TEST_NET_DIR}`);
}

export function retry<T>(fn: () => T, tries = 50): T {
  for (let n = 1; ; n++) {
    try {
      return fn();
    } catch (err) {
      // useradd/userdel fail while another run holds /etc/passwd's lock.
      if (n >= tries || !/lock|busy|try again/i.test((err as Error).message)) throw err;
      sleepSync(100);
    }
  }
}

function usersMatching(re: RegExp): Array<{ name: string; uid: number }> {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f[0] && re.test(f[0]))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]) }));
}

/** Removes everything named after K: processes (by PID), namespaces, links, users, files, firewall rule. */
export function cleanupK(k: number, lock: LockInfo | undefined): void {
  const n = names(k);
  const dir = runDir(k);
  const sshds = (lock?.sshdPids ?? []).filter((p) => processCmdline(p).some((a) => a.startsWith(dir)));
  killPids(sshds);
  const netnses = run(['ip', 'netns', 'list'], { allowFail: true })
    .stdout.split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((x) => n.netnsRe.test(x));
  const victims: number[] = [...sshds];
  for (const ns of netnses) {
    const pids = run(['ip', 'netns', 'pids', ns], { allowFail: true }).stdout.split('\n').filter(Boolean).map(Number);
    victims.push(...pids);
    killPids(pids);
  }
  const users = usersMatching(n.userRe);
  for (const u of users) {
    const pids = processesOfUid(u.uid);
    victims.push(...pids);
    killPids(pids);
  }
  waitGoneSync(victims, 3_000);
  for (const ns of netnses) run(['ip', 'netns', 'del', ns], { allowFail: true });
  const links = run(['ip', '-o', 'link', 'show'], { allowFail: true })
    .stdout.split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '');
  for (const l of links) if (n.vethRe.test(l) || l === n.bridge) run(['ip', 'link', 'del', l], { allowFail: true });
  for (const u of users) retry(() => run(['userdel', '-r', '-f', u.name], { allowFail: false, timeoutMs: 10_000 }), 50);
  if (commandExists('iptables')) {
    for (let i = 0; i < 10; i++) {
      if (
        run(['iptables', '-D', 'DOCKER-USER', '-i', n.bridge, '-o', n.bridge, '-j', 'ACCEPT'], { allowFail: true })
          .status !== 0
      )
        break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Test runs whose lock is stale (owner dead): what `createTestNodes` would clear. For diagnostics. */
export function staleTestNetworks(): number[] {
  if (!existsSync(TEST_NET_DIR)) return [];
  return readdirSync(TEST_NET_DIR)
    .map((f) => /^(\d+)\.json$/.exec(f)?.[1])
    .filter((x): x is string => !!x)
    .map(Number)
    .filter((k) => !lockIsLive(lockPath(k), readLock(lockPath(k))));
}
