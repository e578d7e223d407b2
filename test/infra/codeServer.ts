/**
 * A real VS Code for extension tests (TEST-INFRA.md): code-server 4.100.3 on a free 127.0.0.1 port
 * with its own temp XDG dirs, user-data and extensions dirs and settings, and headless Chromium
 * (Debian's, driven by playwright-core) with a fresh profile in the same temp dir.
 *
 * Each run lives in /tmp/vendetta-test-code-server/run-XXXX/ with an owner.json naming the test
 * process and code-server's pid; a run whose owner died (a killed test run) is cleared by the next
 * start: code-server's process tree and the Chromium processes using that dir's profile, by pid.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { ensureCodeServer } from './codeServerInstall';
import { descendants, killPids, pidAlive, processCmdline, processStartTime, waitGoneSync } from './sys';

export const CODE_SERVER_RUNS = '/tmp/vendetta-test-code-server';
export const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-proxy-server',
];
const BASE_SETTINGS = {
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'telemetry.telemetryLevel': 'off',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'security.workspace.trust.enabled': false,
  'update.mode': 'none',
};

export interface CodeServerOptions {
  /** Extra environment of code-server and so of its extension host (e.g. VENDETTA_HOME). */
  env?: Record<string, string>;
  /** User settings besides the quiet defaults. */
  settings?: Record<string, unknown>;
  /** .vsix files installed into the run's extensions dir before code-server starts. */
  installExtensions?: string[];
}

export interface CodeServer {
  port: number;
  url: string;
  pid: number;
  /** The run's temp dir: logs, profiles, XDG dirs. */
  dir: string;
  log: string;
  /** Install and start took (cold install counted once per machine). */
  installMs: number;
  startMs: number;
  /** Headless Chromium with a fresh profile under `dir`; closed by stop() too. */
  browser(opts?: { colorScheme?: 'light' | 'dark' }): Promise<BrowserContext>;
  /** `http://127.0.0.1:PORT/?folder=…` (and a payload, for extension tests). */
  folderUrl(folder: string, payload?: Array<[string, string]>): string;
  /** Merges into the user settings.json; open windows apply it live. */
  updateSettings(patch: Record<string, unknown>): void;
  stop(): Promise<void>;
}

interface Owner {
  owner: number;
  ownerStart?: string;
  pid?: number;
  pidStart?: string;
}

function readOwner(dir: string): Owner | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as Owner;
  } catch {
    return undefined;
  }
}

/** Chromium processes whose profile is inside `dir`. */
function chromiumPidsOf(dir: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const argv = processCmdline(Number(name));
    if ((argv[0] ?? '').includes('chrom') && argv.some((a) => a.startsWith('--user-data-dir=') && a.includes(dir)))
      out.push(Number(name));
  }
  return out;
}

function killRun(dir: string, owner: Owner | undefined): void {
  const tree =
    owner?.pid && pidAlive(owner.pid) && processStartTime(owner.pid) === owner.pidStart
      ? [owner.pid, ...descendants(owner.pid)]
      : [];
  const pids = [...tree, ...chromiumPidsOf(dir)];
  killPids(pids, 'SIGTERM');
  if (!waitGoneSync(pids, 3_000)) {
    killPids(pids, 'SIGKILL');
    waitGoneSync(pids, 3_000);
  }
}

/** Runs of test processes that died: stop what they left running, delete their dirs. */
export function removeStaleCodeServers(): void {
  if (!existsSync(CODE_SERVER_RUNS)) return;
  for (const name of readdirSync(CODE_SERVER_RUNS)) {
    const dir = join(CODE_SERVER_RUNS, name);
    const owner = readOwner(dir);
    if (owner && pidAlive(owner.owner) && processStartTime(owner.owner) === owner.ownerStart) continue;
    killRun(dir, owner);
    rmSync(dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/healthz', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

export async function startCodeServer(opts: CodeServerOptions = {}): Promise<CodeServer> {
  removeStaleCodeServers();
  const { entry, installMs } = ensureCodeServer();
  const t0 = Date.now();
  mkdirSync(CODE_SERVER_RUNS, { recursive: true });
  const dir = mkdtempSync(join(CODE_SERVER_RUNS, 'run-'));
  const owner: Owner = { owner: process.pid, ownerStart: processStartTime(process.pid) };
  const saveOwner = () => writeFileSync(join(dir, 'owner.json'), JSON.stringify(owner));
  saveOwner();
  const userData = join(dir, 'user-data');
  const extensions = join(dir, 'extensions');
  const xdg = {
    XDG_CONFIG_HOME: join(dir, 'xdg-config'),
    XDG_DATA_HOME: join(dir, 'xdg-data'),
    XDG_CACHE_HOME: join(dir, 'xdg-cache'),
  };
  for (const d of [join(userData, 'User'), extensions, ...Object.values(xdg)]) mkdirSync(d, { recursive: true });
  const settingsFile = join(userData, 'User', 'settings.json');
  writeFileSync(settingsFile, JSON.stringify({ ...BASE_SETTINGS, ...opts.settings }, null, 2));
  const log = join(dir, 'code-server.log');
  const contexts: BrowserContext[] = [];
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', stopSync);
    await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
    stopSync();
  };
  function stopSync(): void {
    killRun(dir, owner);
    rmSync(dir, { recursive: true, force: true });
  }
  process.on('exit', stopSync);

  try {
    for (const vsix of opts.installExtensions ?? []) {
      const r = spawnSync(
        process.execPath,
        [entry, '--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', vsix],
        {
          env: { ...process.env, ...xdg, EXTENSIONS_GALLERY: '{}', ...opts.env },
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      if (r.status !== 0)
        throw new Error(
          `code-server --install-extension ${vsix} failed (${r.error?.message ?? `exit ${r.status}`}):\n${(r.stderr || r.stdout || '').slice(-2000)}`,
        );
    }
    let port = 0;
    for (let attempt = 0; attempt < 3 && !port; attempt++) {
      const candidate = await freePort();
      const logFd = openSync(log, 'a');
      const args = [
        entry,
        '--bind-addr',
        `127.0.0.1:${candidate}`,
        '--auth',
        'none',
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--user-data-dir',
        userData,
        '--extensions-dir',
        extensions,
      ];
      // No extension gallery: the tests reach nothing but loopback, and a gallery entry in a picker
      // (the theme picker's "Browse Additional Color Themes") would try open-vsx.org.
      const child = spawn(process.execPath, args, {
        env: { ...process.env, ...xdg, EXTENSIONS_GALLERY: '{}', ...opts.env },
        stdio: ['ignore', logFd, logFd],
      });
      closeSync(logFd);
      child.on('error', () => undefined);
      if (!child.pid) throw new Error('could not start code-server');
      owner.pid = child.pid;
      owner.pidStart = processStartTime(child.pid);
      saveOwner();
      const until = Date.now() + 60_000;
      while (Date.now() < until && child.exitCode === null && !(await healthy(candidate)))
        await new Promise((r) => setTimeout(r, 100));
      if (child.exitCode === null && (await healthy(candidate))) port = candidate;
      else if (!/EADDRINUSE/.test(readFileSync(log, 'utf8')))
        throw new Error(`code-server did not answer /healthz within 60 s:\n${readFileSync(log, 'utf8').slice(-3000)}`);
      else killRun(dir, owner);
    }
    if (!port) throw new Error(`code-server found no free port:\n${readFileSync(log, 'utf8').slice(-2000)}`);
    const url = `http://127.0.0.1:${port}`;
    return {
      port,
      url,
      pid: owner.pid!,
      dir,
      log,
      installMs,
      startMs: Date.now() - t0,
      async browser(o = {}) {
        const { chromium } = await import('playwright-core');
        const profile = mkdtempSync(join(dir, 'chromium-'));
        const ctx = await chromium.launchPersistentContext(profile, {
          executablePath: CHROMIUM,
          headless: true,
          args: CHROMIUM_ARGS,
          colorScheme: o.colorScheme ?? 'light',
          viewport: { width: 1280, height: 800 },
        });
        contexts.push(ctx);
        return ctx;
      },
      folderUrl(folder, payload) {
        const q = new URLSearchParams({ folder });
        if (payload) q.set('payload', JSON.stringify(payload));
        return `${url}/?${q.toString()}`;
      },
      updateSettings(patch) {
        const current = JSON.parse(readFileSync(settingsFile, 'utf8')) as Record<string, unknown>;
        writeFileSync(settingsFile, JSON.stringify({ ...current, ...patch }, null, 2));
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
