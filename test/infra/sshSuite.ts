/**
 * Shared setup for integration suites that talk to real SSH nodes: test nodes, a temp
 * VENDETTA_HOME, a snapshot of the agent bundle (so a concurrent rebuild of dist/ cannot change
 * the build under a running test), pinned host keys, and clients that are closed afterwards.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { homePaths, type HomePaths } from '../../coordinator/home';
import type { Logger, LogLevel } from '../../coordinator/log';
import {
  createSshAgentClient,
  KnownHosts,
  probeHostKey,
  type SshAgentClient,
  type SshAgentClientOptions,
  type SshNodeTarget,
} from '../../coordinator/ssh';
import { createTestNodes, type TestNodes } from './nodes';
import { requireCommands, requireRoot } from './sys';

export const REPO = resolve(__dirname, '..', '..');

/** Keeps log lines in memory; a failing test can print them. */
export class MemoryLogger implements Logger {
  readonly lines: Array<{ level: LogLevel; message: string; fields?: Record<string, unknown> }> = [];
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level, message, fields });
    if (process.env.VENDETTA_TEST_LOG) console.error(`[${level}] ${message} ${fields ? JSON.stringify(fields) : ''}`);
  }
  error(m: string, f?: Record<string, unknown>): void {
    this.log('error', m, f);
  }
  warn(m: string, f?: Record<string, unknown>): void {
    this.log('warn', m, f);
  }
  info(m: string, f?: Record<string, unknown>): void {
    this.log('info', m, f);
  }
  debug(m: string, f?: Record<string, unknown>): void {
    this.log('debug', m, f);
  }
}

/** dist/agent.js copied to `dir` (built first when missing). */
export function snapshotAgentBundle(dir: string): string {
  const dist = join(REPO, 'dist', 'agent.js');
  if (!existsSync(dist)) {
    const r = spawnSync(process.execPath, [join(REPO, 'scripts', 'build.mjs')], { cwd: REPO, encoding: 'utf8' });
    if (!existsSync(dist)) throw new Error(`building dist/agent.js failed: ${r.stderr}`);
  }
  const copy = join(dir, 'agent.js');
  copyFileSync(dist, copy);
  return copy;
}

export interface SshSuite {
  net: TestNodes;
  home: string;
  paths: HomePaths;
  bundle: string;
  log: MemoryLogger;
  target(i: number): SshNodeTarget;
  /** Probes and pins node i's host key in this suite's known_hosts. */
  pin(i: number): Promise<void>;
  /** A client for node i; closed in cleanup(). */
  client(i: number, opts?: Partial<SshAgentClientOptions>): SshAgentClient;
  cleanup(): Promise<void>;
}

/** For `before`: skips (off CI) or fails (CI) without root or sshd; else builds the suite. */
export async function setupSshSuite(ctx: Mocha.Context, opts: { count: number; label: string }): Promise<SshSuite> {
  requireRoot(ctx, `the ${opts.label} suite`);
  requireCommands(ctx, `the ${opts.label} suite`, ['sshd', 'ssh', 'ssh-keygen', 'ip', 'useradd']);
  const home = mkdtempSync(join(tmpdir(), `vendetta-${opts.label}-`));
  const clients: SshAgentClient[] = [];
  let net: TestNodes | undefined;
  const cleanup = async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await net?.destroy();
    rmSync(home, { recursive: true, force: true });
  };
  try {
    const bundle = snapshotAgentBundle(home);
    net = await createTestNodes({ count: opts.count, label: opts.label });
    const nodes = net;
    const paths = homePaths(join(home, 'vendetta-home'));
    const log = new MemoryLogger();
    const target = (i: number): SshNodeTarget => {
      const n = nodes.nodes[i]!;
      return { name: n.name, host: n.host, port: n.port, user: n.user, identity: n.identity };
    };
    return {
      net: nodes,
      home,
      paths,
      bundle,
      log,
      target,
      async pin(i) {
        const n = nodes.nodes[i]!;
        const k = await probeHostKey(n.host, n.port);
        await new KnownHosts(paths.knownHosts).pin(n.host, n.port, k.keyType, k.key);
      },
      client(i, o = {}) {
        const c = createSshAgentClient(target(i), { paths, log, agentBundle: bundle, ...o });
        clients.push(c);
        return c;
      },
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Resolves when `pred` holds, polling; rejects after `ms`. */
export async function waitFor(pred: () => boolean | Promise<boolean>, ms: number, what: string): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await pred()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}
