/**
 * What a workspace is doing, read from inside it with one exec (so every provider answers the
 * same way): its TCP sockets from /proc/net/tcp{,6} (the workspace's own network namespace),
 * the CPU time its processes used: its cgroup's (v2 `cpu.stat`, v1 `cpuacct.usage`), else the
 * sum over the processes it can see (a VM's all), and for each thread the time it was runnable
 * (ran plus waited for a CPU, /proc/<pid>/task/<tid>/schedstat). On a loaded node a CPU-bound
 * thread gets little CPU but is runnable nearly all the time, however loaded the node is, while
 * a thread that sleeps between bits of work (a poller, a file watcher) is not. Never /proc/stat:
 * in a container that is the whole node's. Where the probe runs under a session inside the
 * workspace (a VM's exec over SSH), the cgroup's figure holds the agent's own work too (its
 * health checks, this probe, the SSH server serving them): under TCG that work costs the guest
 * tens of times a container's, enough to never look idle. There the CPU time is the processes',
 * without the probe's ancestors (what serves the agent's execs), read from the same thread
 * lines. Pure parsers here; the idle watch asks and decides.
 */

import { RELAY_PROCESS_NAME } from '../services/relay';

/** Run as root inside the workspace; the marker line splits the two parts. */
export const ACTIVITY_PROBE = [
  'sh',
  '-c',
  'cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; echo @@cpu; ' +
    'if [ -r /sys/fs/cgroup/cpu.stat ]; then cat /sys/fs/cgroup/cpu.stat; ' +
    'elif [ -r /sys/fs/cgroup/cpuacct/cpuacct.usage ]; then echo "cpuacct_usage_ns $(cat /sys/fs/cgroup/cpuacct/cpuacct.usage)"; ' +
    'else echo @@procs; cat /proc/[0-9]*/stat 2>/dev/null; fi; ' +
    // Shell builtins only (no process of the probe's own but this shell, which says who it is),
    // and the clock (uptime) when the threads are read, so the window is the threads' own.
    // The kernel's whole count too, for a VM (whose kernel is its own): what the node bounds.
    'read -r st < /proc/stat; echo "@@stat $st"; ' +
    'read -r up _ < /proc/uptime; echo "@@sched $$ $up"; for d in /proc/[0-9]*/task/[0-9]*; do ' +
    'p=${d#/proc/}; { read -r s < "$d/stat" && read -r c < "$d/schedstat"; } 2>/dev/null && echo "${p%%/*} $s @@ $c"; done',
];

export interface TcpSocket {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** The kernel's state number: 1 established, 10 listen. */
  state: number;
}

export interface ThreadTimes {
  /** The workspace's clock (uptime) when the threads were read, in ms. */
  atMs: number;
  /**
   * tid → ns run plus waited for a CPU. Without the probe's own shell, its ancestors (the exec's
   * plumbing: docker exec, an SSH session into a VM) and kernel threads.
   */
  runnableNs: Map<number, number>;
  /**
   * `pid:starttime` → CPU time in µs of each process the probe saw (the same ones as `runnableNs`):
   * its threads' user and system time and its waited-for children's. Keyed by start time too, so a
   * reused pid is a new process.
   */
  processUsec: Map<string, number>;
  /**
   * The probe ran under a session inside the workspace (its shell's parent is one of the
   * workspace's processes: an SSH server in a VM), not entered from outside (docker or LXD exec).
   */
  viaSession: boolean;
}

export interface Activity {
  sockets: TcpSocket[];
  /** CPU time used so far, in microseconds; undefined when neither source could be read. */
  cpuUsec?: number;
  /** Each thread's runnable time so far, and when it was read; undefined when unreadable. */
  threads?: ThreadTimes;
  /**
   * CPU time the kernel counts as used on all CPUs so far (/proc/stat: all but idle and I/O
   * wait), in µs. A VM's own; in a container the node's, and not used.
   */
  machineBusyUsec?: number;
}

const TCP_ESTABLISHED = 1;
const TCP_LISTEN = 10;
/** USER_HZ: /proc/<pid>/stat counts in 1/100 s on every Linux architecture we run on. */
export const USEC_PER_JIFFY = 10_000;

export function parseActivity(stdout: string): Activity {
  const schedCut = stdout.indexOf('\n@@sched ');
  const head = schedCut < 0 ? stdout : stdout.slice(0, schedCut + 1);
  const cut = head.indexOf('@@cpu\n');
  const net = cut < 0 ? head : head.slice(0, cut);
  const cpu = cut < 0 ? '' : head.slice(cut + 6);
  const out: Activity = { sockets: parseProcNetTcp(net) };
  const usec = parseCpuUsec(cpu);
  if (usec !== undefined) out.cpuUsec = usec;
  const threads = schedCut < 0 ? undefined : parseThreadTimes(stdout.slice(schedCut + 1));
  if (threads) out.threads = threads;
  const busy = machineBusyUsec(head);
  if (busy !== undefined) out.machineBusyUsec = busy;
  return out;
}

/** `@@stat cpu user nice system idle iowait irq softirq steal …` (in 1/100 s) → µs not idle. */
function machineBusyUsec(text: string): number | undefined {
  const m = /^@@stat cpu +(\d+(?: \d+){7})/m.exec(text);
  if (!m) return undefined;
  const [user, nice, system, , , irq, softirq, steal] = m[1]!.split(' ').map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) * USEC_PER_JIFFY;
}

/**
 * `@@sched <probe pid> <uptime s>` then `<pid> <thread's stat line> @@ <run ns> <wait ns> <slices>`
 * per thread. The probe's shell and its ancestors are left out, and so are kernel threads (pid 2
 * and its children) and the agent's port relay: none is the workspace's own work.
 */
export function parseThreadTimes(text: string): ThreadTimes | undefined {
  const lines = text.split('\n');
  const head = /^@@sched (\d+) (\d+(?:\.\d+)?)$/.exec(lines[0] ?? '');
  if (!head) return undefined;
  const threads: Array<{ tid: number; pid: number; ns: number; usec?: number; start?: string }> = [];
  const parentOf = new Map<number, number>();
  /** The agent's own long-lived process in the workspace (the port relay), by its name. */
  const agents = new Set<number>();
  for (const line of lines.slice(1)) {
    const at = line.lastIndexOf(' @@ ');
    const close = line.lastIndexOf(')', at);
    if (at < 0 || close < 0) continue;
    const [pid, tid] = line.split(' ', 2).map((n) => Number(n));
    const stat = line.slice(close + 2, at).split(' ');
    const ppid = Number(stat[1]);
    const [run, wait] = line
      .slice(at + 4)
      .trim()
      .split(/\s+/)
      .map((n) => Number(n));
    if (![pid, tid, ppid, run, wait].every((n) => Number.isSafeInteger(n) && n! >= 0)) continue;
    parentOf.set(pid!, ppid);
    if (pid === tid && line.slice(line.indexOf('(') + 1, close) === RELAY_PROCESS_NAME) agents.add(pid!);
    threads.push({ tid: tid!, pid: pid!, ns: run! + wait!, ...threadCpu(stat, pid === tid) });
  }
  if (threads.length === 0) return undefined;
  const probePid = Number(head[1]);
  const skip = new Set<number>([2]);
  for (let p: number | undefined = probePid; p !== undefined && p > 0 && !skip.has(p); p = parentOf.get(p)) skip.add(p);
  const runnableNs = new Map<number, number>();
  const processUsec = new Map<string, number>();
  for (const t of threads) {
    if (skip.has(t.pid) || agents.has(t.pid) || parentOf.get(t.pid) === 2) continue;
    runnableNs.set(t.tid, t.ns);
    if (t.usec === undefined) continue;
    const key = `${t.pid}:${t.start}`;
    processUsec.set(key, (processUsec.get(key) ?? 0) + t.usec);
  }
  const viaSession = (parentOf.get(probePid) ?? 0) > 0;
  return { atMs: Math.round(Number(head[2]) * 1000), runnableNs, processUsec, viaSession };
}

/**
 * A thread's CPU time in µs from its stat fields after the `)`: utime and stime, and for the
 * process's main thread its waited-for children's (cutime, cstime, which every thread's line
 * repeats); and the process's start time. Nothing for a line too short to hold them.
 */
function threadCpu(stat: readonly string[], main: boolean): { usec: number; start: string } | Record<string, never> {
  const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(stat[i]));
  const start = stat[19];
  if (start === undefined || ![utime, stime, cutime, cstime].every((n) => Number.isSafeInteger(n) && n! >= 0))
    return {};
  return { usec: (utime! + stime! + (main ? cutime! + cstime! : 0)) * USEC_PER_JIFFY, start };
}

/**
 * The CPU the workspace's processes used between two reads, as a fraction of one CPU over the
 * window: since the last read for a process seen then, since its start for a new one unless
 * `newOnes` is false.
 */
export function processCpuShare(before: ThreadTimes, now: ThreadTimes, newOnes = true): number {
  const windowUsec = (now.atMs - before.atMs) * 1000;
  if (windowUsec <= 0) return 0;
  let used = 0;
  for (const [key, v] of now.processUsec) {
    const was = before.processUsec.get(key);
    if (was !== undefined) used += Math.max(0, v - was);
    else if (newOnes) used += v;
  }
  return used / windowUsec;
}

/**
 * The largest share of the window between two reads that one thread was runnable: since the
 * last read for a thread seen then, since its start for a new one (or a reused tid) unless
 * `newOnes` is false. 1 for a thread that wanted a CPU all along, however little it got.
 */
export function busiestThreadShare(before: ThreadTimes, now: ThreadTimes, newOnes = true): number {
  const windowNs = (now.atMs - before.atMs) * 1e6;
  if (windowNs <= 0) return 0;
  let most = 0;
  for (const [tid, v] of now.runnableNs) {
    const was = before.runnableNs.get(tid);
    if (was !== undefined && was <= v) most = Math.max(most, v - was);
    else if (newOnes) most = Math.max(most, v);
  }
  return Math.min(1, most / windowNs);
}

/** Lines of /proc/net/tcp and /proc/net/tcp6 (headers and anything malformed skipped). */
export function parseProcNetTcp(text: string): TcpSocket[] {
  const out: TcpSocket[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || !/^\d+:$/.test(f[0]!)) continue;
    const local = endpoint(f[1]!);
    const remote = endpoint(f[2]!);
    const state = Number.parseInt(f[3]!, 16);
    if (!local || !remote || !Number.isFinite(state)) continue;
    out.push({
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      state,
    });
  }
  return out;
}

/** `0100007F:1F90` → 127.0.0.1:8080; IPv6 as 32 hex digits in four host-order words. */
function endpoint(s: string): { address: string; port: number } | undefined {
  const m = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(s);
  if (!m) return undefined;
  const hex = m[1]!;
  const port = Number.parseInt(m[2]!, 16);
  if (hex.length === 8) return { address: wordBytes(hex).join('.'), port };
  const bytes: number[] = [];
  for (let i = 0; i < 32; i += 8) bytes.push(...wordBytes(hex.slice(i, i + 8)));
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff)
    return { address: bytes.slice(12).join('.'), port };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return { address: groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::'), port };
}

/** One little-endian 32-bit word of /proc/net as its four bytes in network order. */
function wordBytes(hex8: string): number[] {
  return [6, 4, 2, 0].map((i) => Number.parseInt(hex8.slice(i, i + 2), 16));
}

export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/** `usage_usec` of cgroup v2 cpu.stat, cgroup v1's usage in ns, else the sum of the processes' times. */
export function parseCpuUsec(text: string): number | undefined {
  const usage = /^usage_usec (\d+)$/m.exec(text);
  if (usage) return Number(usage[1]);
  const v1 = /^cpuacct_usage_ns (\d+)$/m.exec(text);
  if (v1) return Math.floor(Number(v1[1]) / 1000);
  if (!text.startsWith('@@procs')) return undefined;
  let jiffies = 0;
  for (const line of text.split('\n').slice(1)) {
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so count from the last `)`.
    const rest = line.slice(line.lastIndexOf(')') + 2).split(' ');
    // utime, stime, and cutime, cstime (children it waited for: a finished build step counts too).
    const times = [11, 12, 13, 14].map((i) => Number(rest[i]));
    if (line.lastIndexOf(')') < 0 || times.some((t) => !Number.isFinite(t))) continue;
    jiffies += times.reduce((a, b) => a + b, 0);
  }
  return jiffies * USEC_PER_JIFFY;
}

/** TCP ports something listens on, each once, in order. */
export function listeningPorts(sockets: readonly TcpSocket[]): number[] {
  return [...new Set(sockets.filter((s) => s.state === TCP_LISTEN).map((s) => s.localPort))].sort((a, b) => a - b);
}

/**
 * Connections into the workspace from outside it: an SSH session, a forwarded port, `exec`
 * (which runs over SSH). Connections between its own processes come from loopback; the ones
 * the engine or the node forwards in come from another address. The agent's own (agentOnlyPorts:
 * a VM's control SSH, held open for exec and checks) are not a user's.
 */
export function outsideConnections(sockets: readonly TcpSocket[], agentOnlyPorts: readonly number[] = []): number {
  const listening = new Set(listeningPorts(sockets));
  for (const p of agentOnlyPorts) listening.delete(p);
  return sockets.filter(
    (s) => s.state === TCP_ESTABLISHED && listening.has(s.localPort) && !isLoopback(s.remoteAddress),
  ).length;
}

/**
 * Connections accepted on the node at the workspace's published node ports (`nodePorts`): the
 * node-side half of an SSH session or a forward. Needed where a proxy reaches the workspace from
 * its own loopback (LXD's proxy device), so that inside, a user's connection looks like one
 * between the workspace's own processes.
 */
export function nodePortConnections(nodeSockets: readonly TcpSocket[], nodePorts: ReadonlySet<number>): number {
  return nodeSockets.filter((s) => s.state === TCP_ESTABLISHED && nodePorts.has(s.localPort)).length;
}
