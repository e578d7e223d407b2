/** CPU time accounting from /proc, to say where a benchmark's time went on a shared machine. */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks of /proc, in ms (USER_HZ is 100 on Linux). */
const TICK_MS = 10;

/** Busy CPU time of the whole machine from /proc/stat (all processes, the kernel, every CPU). */
export function machineCpu(): { busyMs: number; cpus: number } {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = (lines[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return {
    busyMs: (user + nice + system + irq + softirq + steal) * TICK_MS,
    cpus: lines.filter((l) => /^cpu\d+ /.test(l)).length,
  };
}

interface ProcStat {
  comm: string;
  /** utime + stime of the process itself. */
  ownMs: number;
  /** ownMs plus what its reaped children used (cutime + cstime). */
  totalMs: number;
}

function procStat(pid: string): ProcStat | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = raw.lastIndexOf(')');
    const f = raw.slice(close + 2).split(' ');
    const own = (Number(f[11]) + Number(f[12])) * TICK_MS;
    return {
      comm: raw.slice(raw.indexOf('(') + 1, close),
      ownMs: own,
      totalMs: own + (Number(f[13]) + Number(f[14])) * TICK_MS,
    };
  } catch {
    return undefined; // it exited meanwhile
  }
}

/** User + system CPU time of one process so far. */
export function processCpuMs(pid: number | undefined): number {
  const s = pid === undefined ? undefined : procStat(String(pid));
  if (!s) throw new Error(`no process ${pid}`);
  return s.ownMs;
}

export type CpuSnapshot = Map<string, ProcStat>;

/** Every process's CPU time so far, by pid. */
export function snapshotCpu(): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const s = procStat(pid);
    if (s) out.set(pid, s);
  }
  return out;
}

/**
 * CPU used between two snapshots by the processes of one command name (`sshd`, `node`), with
 * the processes that started meanwhile, and those that ended (counted in their parent's reaped
 * children time, as long as the parent lives).
 */
export function cpuOfCommand(before: CpuSnapshot, after: CpuSnapshot, comm: string, exceptPids: number[] = []): number {
  const skip = new Set(exceptPids.map(String));
  let sum = 0;
  for (const [pid, s] of after)
    if (s.comm === comm && !skip.has(pid)) sum += s.totalMs - (before.get(pid)?.totalMs ?? 0);
  for (const [pid, s] of before) if (s.comm === comm && !skip.has(pid) && !after.has(pid)) sum -= s.totalMs;
  return sum;
}
