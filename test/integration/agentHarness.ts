/**
 * Drives the BUILT agent bundle (dist/agent.js) the way the coordinator does: `attach` over a
 * child's stdio, in a private VENDETTA_AGENT_HOME. Tracks every daemon it may have started and
 * stops them (agent/shutdown, else by pid) when a test ends, also after a failure.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import {
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
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import { AGENT_PROTOCOL_VERSION, Initialize, Shutdown, type InitializeResult } from '../../agent/protocol';

export const ROOT = resolve(__dirname, '../..');
export const AGENT_JS = join(ROOT, 'dist/agent.js');
const PREFIX = 'vendetta-agent-it-';

let built = false;
export function buildBundles(): void {
  if (built) return;
  const r = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `build failed: ${r.stderr}`);
  built = true;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

/** Agent processes (daemons and attaches) whose environment names `home`: ours, whoever started them. */
export function agentProcesses(home: string, role?: 'daemon' | 'attach'): number[] {
  const needle = `\0VENDETTA_AGENT_HOME=${home}\0`;
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = '\0' + readFileSync(`/proc/${name}/environ`, 'latin1');
      if (!env.includes(needle)) continue;
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (!argv.includes(AGENT_JS)) continue;
      if (role && !argv.includes(role)) continue;
      if (alive(Number(name))) out.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

export async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function killAndWait(pid: number): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const end = Date.now() + 3000;
  while (alive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/** Homes of earlier runs that were killed before cleaning up: stop their daemons, delete them. */
export async function cleanStaleHomes(): Promise<void> {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), name);
    let owner = 0;
    try {
      owner = Number(readFileSync(join(dir, 'owner.pid'), 'utf8'));
    } catch {
      // No owner file: half-created. Abandoned only once it is old: a file running beside this
      // one (parallel workers) may be between making the folder and writing its owner.
      const made = statSync(dir, { throwIfNoEntry: false })?.mtimeMs;
      if (made === undefined || Date.now() - made < 60_000) continue;
    }
    if (owner && alive(owner)) continue;
    for (const pid of agentProcesses(join(dir, 'home'))) await killAndWait(pid);
    rmSync(dir, { recursive: true, force: true });
  }
}

export class Attached {
  readonly conn: MessageConnection;
  readonly stderr: string[] = [];
  readonly exited: Promise<number | null>;

  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    proc.stderr.on('data', (c: Buffer) => this.stderr.push(c.toString()));
    this.exited = new Promise((r) => proc.on('exit', (code) => r(code)));
    this.conn = createMessageConnection(new StreamMessageReader(proc.stdout), new StreamMessageWriter(proc.stdin));
    this.conn.onError(() => undefined);
    this.conn.listen();
  }

  initialize(protocolVersion = AGENT_PROTOCOL_VERSION): Promise<InitializeResult> {
    return this.conn.sendRequest(Initialize, {
      protocolVersion,
      clientName: 'agent-integration-test',
      clientVersion: '0.0.0',
    });
  }

  /** Ends stdin, as a closing SSH channel does; resolves with attach's exit code. */
  async close(): Promise<number | null> {
    this.conn.dispose();
    this.proc.stdin.end();
    return this.exited;
  }
}

export class TestHome {
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
  private readonly attaches: Attached[] = [];
  /** Every daemon pid an initialize reported. */
  readonly pids = new Set<number>();

  private constructor(
    readonly dir: string,
    extraEnv: NodeJS.ProcessEnv,
  ) {
    this.home = join(dir, 'home');
    this.env = { ...process.env, VENDETTA_AGENT_HOME: this.home, VENDETTA_HOME: join(dir, 'vendetta'), ...extraEnv };
  }

  static create(extraEnv: NodeJS.ProcessEnv = {}): TestHome {
    const dir = mkdtempSync(join(tmpdir(), PREFIX));
    writeFileSync(join(dir, 'owner.pid'), String(process.pid));
    mkdirSync(join(dir, 'vendetta'), { mode: 0o700 });
    return new TestHome(dir, extraEnv);
  }

  get socket(): string {
    return join(this.home, 'agent.sock');
  }

  get pidFile(): string {
    return join(this.home, 'daemon.pid');
  }

  lockPid(): number | undefined {
    try {
      return (JSON.parse(readFileSync(this.pidFile, 'utf8')) as { pid: number }).pid;
    } catch {
      return undefined;
    }
  }

  attach(): Attached {
    const a = new Attached(
      spawn(process.execPath, [AGENT_JS, 'attach'], { env: this.env, stdio: ['pipe', 'pipe', 'pipe'] }),
    );
    this.attaches.push(a);
    return a;
  }

  /** attach + initialize, remembering the daemon's pid for cleanup. */
  async attachReady(): Promise<{ a: Attached; init: InitializeResult }> {
    const a = this.attach();
    const init = await a.initialize();
    this.pids.add(init.pid);
    return { a, init };
  }

  rawSocket(): Promise<Socket> {
    return new Promise((res, rej) => {
      const s = connect(this.socket);
      s.once('connect', () => res(s));
      s.once('error', rej);
    });
  }

  isAlive(pid: number): boolean {
    return alive(pid);
  }

  async dispose(): Promise<void> {
    for (const a of this.attaches) if (a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill('SIGKILL');
    if (existsSync(this.socket)) await this.shutdownOverSocket().catch(() => undefined);
    for (const pid of new Set([...this.pids, ...agentProcesses(this.home)])) await killAndWait(pid);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The polite way first: agent/shutdown over a direct connection (starts nothing). */
  private async shutdownOverSocket(): Promise<void> {
    const s = await this.rawSocket();
    const conn = createMessageConnection(new StreamMessageReader(s), new StreamMessageWriter(s));
    conn.onError(() => undefined);
    conn.listen();
    try {
      const timeout = new Promise<never>((_, rej) =>
        setTimeout(() => rej(new Error('shutdown timed out')), 3000).unref(),
      );
      await Promise.race([
        (async () => {
          const init = await conn.sendRequest(Initialize, {
            protocolVersion: AGENT_PROTOCOL_VERSION,
            clientName: 'cleanup',
            clientVersion: '0',
          });
          this.pids.add(init.pid);
          await conn.sendRequest(Shutdown);
        })(),
        timeout,
      ]);
    } finally {
      conn.dispose();
      s.destroy();
    }
  }
}
