/**
 * Runs the BUILT CLI (a snapshot of dist/vendetta.js + dist/agent.js, so a concurrent rebuild
 * cannot change it mid-test) against a temp VENDETTA_HOME, and cleans up every coordinator and
 * local agent daemon it caused, by pid, also when a test failed or an earlier run was killed.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { processRunning } from '../../coordinator/daemon/instanceLock';
import { killPids, pidAlive, processStartTime, sleepSync } from '../infra/sys';

export const REPO = resolve(__dirname, '..', '..');
const PREFIX = 'vendetta-cli-';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliHome {
  dir: string;
  home: string;
  socket: string;
  nodesFile: string;
  run(
    args: string[],
    opts?: { timeoutMs?: number; env?: Record<string, string>; onStderr?: (chunk: string) => void },
  ): Promise<CliResult> & { pid: () => number | undefined };
  /** Runs the CLI on a pseudo-terminal (util-linux `script`), typing `input`. */
  runOnTerminal(args: string[], input: string): Promise<CliResult>;
  /** JSON stdout of a command that must succeed. */
  json<T>(args: string[]): Promise<T>;
  coordinatorPid(): number | undefined;
  localAgentPid(): number | undefined;
  rawSocket(): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }>;
  cleanup(): Promise<void>;
}

/** `vendetta node add` for a test node, its host key pinned by fingerprint; `extra` goes after. */
export function nodeAddArgs(
  n: { name: string; host: string; user: string; identity: string; hostKeyFingerprint: string },
  extra: string[] = [],
): string[] {
  return [
    'node',
    'add',
    n.name,
    '--host',
    n.host,
    '--user',
    n.user,
    '--identity',
    n.identity,
    '--host-key-fingerprint',
    n.hostKeyFingerprint,
    ...extra,
  ];
}

/** ssh2's native cipher add-on as npm built it, and where the build puts it (dist/crypto/…). */
export const NATIVE_CIPHERS = 'node_modules/ssh2/lib/protocol/crypto/build/Release/sshcrypto.node';
export const SHIPPED_CIPHERS = 'crypto/build/Release/sshcrypto.node';

/** Builds dist/ and copies the two bundles the CLI needs next to each other. */
function snapshotBundles(dir: string): string {
  const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'build.mjs')], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node scripts/build.mjs failed: ${r.stderr}`);
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const f of ['vendetta.js', 'ssh-proxy.js', 'agent.js', 'mcp.js'])
    copyFileSync(join(REPO, 'dist', f), join(bin, f));
  // ssh2's native ciphers, where the build shipped them: they load from beside the bundle.
  if (existsSync(join(REPO, NATIVE_CIPHERS)))
    cpSync(join(REPO, 'dist', 'crypto'), join(bin, 'crypto'), { recursive: true });
  return join(bin, 'vendetta.js');
}

function readPid(file: string, json: boolean): number | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    const pid = json ? (JSON.parse(text) as { pid?: unknown }).pid : Number.parseInt(text, 10);
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Our processes are the ones whose environment names this VENDETTA_HOME (or its local agent home). */
function processUsesDir(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .some((kv) => (kv.startsWith('VENDETTA_HOME=') || kv.startsWith('VENDETTA_AGENT_HOME=')) && kv.includes(dir));
  } catch {
    return false;
  }
}

/** Zombies (reaped late by whoever inherited a detached process) count as gone. */
function waitGone(pids: number[], ms: number): boolean {
  const until = Date.now() + ms;
  while (pids.some(processRunning)) {
    if (Date.now() > until) return false;
    sleepSync(20);
  }
  return true;
}

function killDirProcesses(dir: string, pids: Iterable<number>): void {
  const ours = [...new Set(pids)].filter((p) => processRunning(p) && processUsesDir(p, dir));
  killPids(ours, 'SIGTERM');
  if (!waitGone(ours, 3000)) {
    killPids(ours, 'SIGKILL');
    waitGone(ours, 3000);
  }
}

/** Homes of earlier runs whose test process died: stop what they left running, delete them. */
export function removeStaleHomes(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), name);
    let owner: { pid?: number; start?: string } = {};
    try {
      owner = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as typeof owner;
    } catch {
      // No owner file: half-created. Stale only once it is old: a file running beside this one
      // (parallel workers) may be between making the folder and writing its owner.
      const made = statSync(dir, { throwIfNoEntry: false })?.mtimeMs;
      if (made === undefined || Date.now() - made < 60_000) continue;
    }
    if (owner.pid && pidAlive(owner.pid) && processStartTime(owner.pid) === owner.start) continue;
    const home = join(dir, 'home');
    killDirProcesses(
      dir,
      [readPid(join(home, 'coordinator.lock'), false), readPid(join(home, 'local-agent', 'daemon.pid'), true)].filter(
        (p): p is number => p !== undefined,
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

export function createCliHome(): CliHome {
  removeStaleHomes();
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, 'owner.json'), JSON.stringify({ pid: process.pid, start: processStartTime(process.pid) }));
  const cli = snapshotBundles(dir);
  const home = join(dir, 'home');
  const seenCoordinators = new Set<number>();
  const lockFile = join(home, 'coordinator.lock');
  const agentPidFile = join(home, 'local-agent', 'daemon.pid');

  const coordinatorPid = () => {
    const pid = readPid(lockFile, false);
    if (pid !== undefined) seenCoordinators.add(pid);
    return pid;
  };

  const run: CliHome['run'] = (args, opts = {}) => {
    let childPid: number | undefined;
    const p = new Promise<CliResult>((resolvePromise) => {
      const t0 = Date.now();
      const child = spawn(process.execPath, [cli, ...args], {
        cwd: dir,
        env: { ...process.env, VENDETTA_HOME: home, SSH_AUTH_SOCK: '', ...opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      childPid = child.pid;
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        opts.onStderr?.(d.toString());
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        coordinatorPid();
        resolvePromise({ code: code ?? (signal ? 128 : -1), stdout, stderr, ms: Date.now() - t0 });
      });
    });
    return Object.assign(p, { pid: () => childPid });
  };

  return {
    dir,
    home,
    socket: join(home, 'coordinator.sock'),
    nodesFile: join(home, 'nodes.yaml'),
    run,
    runOnTerminal(args, input) {
      return new Promise((resolvePromise) => {
        const t0 = Date.now();
        // `script` takes one command line; every word is quoted (test-controlled values only).
        const line = [process.execPath, cli, ...args].map(shellWord).join(' ');
        const child = spawn('script', ['-qec', line, '/dev/null'], {
          cwd: dir,
          env: { ...process.env, VENDETTA_HOME: home, SSH_AUTH_SOCK: '' },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stdin.end(input);
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('close', (code) => {
          clearTimeout(timer);
          coordinatorPid();
          resolvePromise({ code: code ?? -1, stdout, stderr: '', ms: Date.now() - t0 });
        });
      });
    },
    async json<T>(args: string[]): Promise<T> {
      const r = await run([...args, '--json']);
      if (r.code !== 0) throw new Error(`vendetta ${args.join(' ')} --json exited ${r.code}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
    coordinatorPid,
    localAgentPid: () => readPid(agentPidFile, true),
    rawSocket() {
      return new Promise((res, rej) => {
        const socket = connect(join(home, 'coordinator.sock'));
        let buf = '';
        socket.on('data', (d) => (buf += d.toString()));
        const closed = new Promise<void>((r) => socket.on('close', () => r()));
        socket.once('connect', () => res({ socket, received: () => buf, closed }));
        socket.once('error', rej);
      });
    },
    async cleanup() {
      if (existsSync(join(home, 'coordinator.sock'))) await run(['coordinator', 'stop'], { timeoutMs: 20_000 });
      coordinatorPid();
      const agent = readPid(agentPidFile, true);
      killDirProcesses(dir, [...seenCoordinators, ...(agent ? [agent] : [])]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function shellWord(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export async function waitUntil(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await pred()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}
