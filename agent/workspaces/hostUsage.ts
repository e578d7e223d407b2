/**
 * What a VM costs its node, read on the node from its emulator's process, to bound what the guest
 * says of itself. A guest's clock runs on while the node gives its virtual CPU to others, and
 * without a paravirtual clock (never under TCG) the guest charges that wait to whatever was
 * running: on a loaded node an idle VM's services looked busy. What the node gave the VM is the
 * most its processes can really have used, and a guest thread wanting a CPU all along keeps a
 * virtual CPU thread on the node runnable all along.
 */
import { readdir, readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { USEC_PER_JIFFY } from './activity';

export interface ProcessUsage {
  /** The node's monotonic clock when it was read, in ms. */
  atMs: number;
  /** User and system CPU time of all its threads, in µs. */
  cpuUsec: number;
  /** tid → ns each thread ran plus waited for a CPU. */
  runnableNs: Map<number, number>;
}

/** A VM's process on the node. */
export interface VmNodeUsage extends ProcessUsage {
  /** Its CPU is emulated (QEMU's TCG, no KVM): the same work takes several times the CPU time. */
  emulated: boolean;
}

/** One process's usage from /proc on this machine; undefined when it is gone. */
export async function readProcessUsage(pid: number, proc = '/proc'): Promise<ProcessUsage | undefined> {
  try {
    const atMs = performance.now();
    const stat = await readFile(`${proc}/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [utime, stime] = [11, 12].map((i) => Number(fields[i]));
    if (![utime, stime].every((n) => Number.isSafeInteger(n) && n! >= 0)) return undefined;
    const runnableNs = new Map<number, number>();
    for (const tid of await readdir(`${proc}/${pid}/task`)) {
      const line = await readFile(`${proc}/${pid}/task/${tid}/schedstat`, 'utf8').catch(() => '');
      const [run, wait] = line.trim().split(/\s+/).map(Number);
      if (Number.isSafeInteger(run) && Number.isSafeInteger(wait)) runnableNs.set(Number(tid), run! + wait!);
    }
    return { atMs, cpuUsec: (utime! + stime!) * USEC_PER_JIFFY, runnableNs };
  } catch {
    return undefined;
  }
}

export interface GuestShares {
  /** CPU of the guest's counted processes, as a fraction of one CPU. */
  cpu: number;
  /** The largest share of the window one counted guest thread was runnable. */
  busiestThread: number;
  /** CPU of the whole guest (its kernel's own count: every process, the agent's too). */
  machine: number;
}

/**
 * The guest's figures bounded by the node's: its processes' CPU scaled down by the part of the
 * guest's whole count that the node really gave the VM, and a thread counted as wanting a CPU all
 * along only if one of the VM's threads on the node was runnable that long too.
 */
export function boundByNode(
  guest: GuestShares,
  before: ProcessUsage,
  now: ProcessUsage,
): Pick<GuestShares, 'cpu' | 'busiestThread'> {
  const windowMs = now.atMs - before.atMs;
  if (windowMs <= 0) return { cpu: guest.cpu, busiestThread: guest.busiestThread };
  const given = Math.max(0, now.cpuUsec - before.cpuUsec) / 1000 / windowMs;
  let runnable = 0;
  for (const [tid, ns] of now.runnableNs) {
    const was = before.runnableNs.get(tid);
    if (was !== undefined && was <= ns) runnable = Math.max(runnable, ns - was);
  }
  const scale = guest.machine > given ? given / guest.machine : 1;
  return {
    cpu: guest.cpu * scale,
    busiestThread: Math.min(guest.busiestThread, runnable / 1e6 / windowMs),
  };
}
