/** Small synchronous helpers for test infrastructure: run a command (argv, no shell), read /proc. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs argv and returns its output; throws with stderr unless `allowFail`. */
export function run(argv: string[], opts: { allowFail?: boolean; input?: string; timeoutMs?: number } = {}): RunResult {
  const [cmd, ...args] = argv;
  const r = spawnSync(cmd!, args, { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 30_000 });
  const out = { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (!opts.allowFail && (r.error || r.status !== 0)) {
    throw new Error(`${argv.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${out.stderr.trim()}`);
  }
  return out;
}

export function commandExists(cmd: string): boolean {
  return run(['sh', '-c', 'command -v "$1"', 'sh', cmd], { allowFail: true }).status === 0;
}

/** Is `pid` a running process? A zombie (exited, not yet reaped by its parent) counts as gone. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Field 22 of /proc/PID/stat: start time in clock ticks, which tells a reused pid from the original. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function processCmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** pid → parent pid of every process. */
export function processTree(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.set(Number(name), ppid);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** All descendants of `pid` (not `pid` itself). */
export function descendants(pid: number): number[] {
  const tree = processTree();
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const [child, parent] of tree) {
      if (parent === p) {
        out.push(child);
        queue.push(child);
      }
    }
  }
  return out;
}

/** Processes owned by a uid. */
export function processesOfUid(uid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const m = /^Uid:\s+(\d+)/m.exec(status);
      if (m && Number(m[1]) === uid) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

export function killPids(pids: number[], signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Waits (busy, synchronously) until every pid is gone or `ms` passed. */
export function waitGoneSync(pids: number[], ms = 3_000): boolean {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!pids.some(pidAlive)) return true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  return !pids.some(pidAlive);
}

export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Requires root for a suite: off CI it skips with one line; under CI=true it fails. */
export function requireRoot(ctx: Mocha.Context, what: string): void {
  if (process.getuid?.() === 0) return;
  if (process.env.CI === 'true')
    throw new Error(`${what} needs root (network namespaces, Unix users); CI must run as root`);
  console.log(`      skipped: ${what} needs root (network namespaces, Unix users)`);
  ctx.skip();
}

/** Requires commands; off CI it skips with one line; under CI=true it fails. */
export function requireCommands(ctx: Mocha.Context, what: string, cmds: string[]): void {
  const missing = cmds.filter((c) => !commandExists(c));
  if (missing.length === 0) return;
  const msg = `${what} needs ${missing.join(', ')} (test/infra/setup.sh installs them as root)`;
  if (process.env.CI === 'true') throw new Error(msg);
  console.log(`      skipped: ${msg}`);
  ctx.skip();
}

/**
 * What OpenSSH's sshd needs before it runs as root, even for `sshd -T`: its privilege-separation
 * folder. Debian's package makes it only when its service starts, which a fresh container or CI
 * machine never does.
 */
export function ensureSshdPrivsepDir(): void {
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
}

/** Mount points under `root`, deepest first. */
export function mountsUnder(root: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const target = line.split(' ')[1]?.replace(/\\040/g, ' ');
    if (target && (target === root || target.startsWith(root + '/'))) out.push(target);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** Processes whose command line mentions `needle` (dockerd, containerd, shims of one engine). */
export function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    if (processCmdline(Number(name)).some((a) => a.includes(needle))) out.push(Number(name));
  }
  return out;
}
