/**
 * Private Docker engines for tests (TEST-INFRA.md): `dockerd` with its own socket, data-root,
 * exec-root, pid file and config, optionally inside a network namespace (then the ports its
 * containers publish on 127.0.0.1 live in that namespace, as on a node). Each engine registers
 * itself in /tmp/vendetta-test-dockerd/<id>.json with its owner's pid; an engine whose owner died
 * (a killed test run) is torn down by the next start: processes by PID, mounts, folders, netns.
 *
 *   registry  /tmp/vendetta-test-dockerd/<id>.json     exec-root /tmp/vendetta-test-dockerd/<id>.x
 *   data-root /var/tmp/vendetta-test-dockerd/<id>      own netns (ownNetns) vtd<id>
 */
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { EngineClient } from '../../agent/providers/docker/engine';
import {
  descendants,
  killPids,
  mountsUnder,
  pidAlive,
  processesMentioning,
  processStartTime,
  run,
  waitGoneSync,
} from './sys';

export const DOCKERD_REGISTRY = '/tmp/vendetta-test-dockerd';
export const DOCKERD_DATA = '/var/tmp/vendetta-test-dockerd';
const MAX_ID = 200;

export interface DockerdOptions {
  /** Folder for the socket, pid file, config and log (the caller's temp dir). */
  dir: string;
  /** Run inside this existing network namespace (/run/netns/<name>). */
  netns?: string;
  /** Make a fresh network namespace (loopback only) for this engine, removed on stop. */
  ownNetns?: boolean;
  socketPath?: string;
  /** The default bridge's address, e.g. 10.79.3.1/24; distinct per engine sharing a namespace. */
  bip?: string;
  /** Group allowed on the socket. */
  group?: string;
  /** A bridge whose traffic dockerd's FORWARD DROP must not cut (DOCKER-USER ACCEPT rule). */
  bridge?: string;
  /** How long to wait for /_ping. */
  readyTimeoutMs?: number;
}

export interface Dockerd {
  id: number;
  socket: string;
  /** `unix://<socket>`, for DOCKER_HOST. */
  host: string;
  pid: number;
  /** The namespace it runs in, if any. */
  netns?: string;
  log: string;
  /** argv prefix that runs a command in the engine's network namespace (empty when none). */
  nsenter: string[];
  engine: EngineClient;
  stop(): Promise<void>;
  /** Stops the engine as a node shutdown does (its containers stop, none is removed) and starts it again. */
  restart(): Promise<void>;
}

interface Registration {
  owner: number;
  ownerStart?: string;
  dockerdPid?: number;
  execRoot: string;
  dataRoot: string;
  netns?: string;
  ownNetns?: boolean;
  bridge?: string;
  dir: string;
}

const regFile = (id: number) => join(DOCKERD_REGISTRY, `${id}.json`);

function readReg(id: number): Registration | undefined {
  try {
    return JSON.parse(readFileSync(regFile(id), 'utf8')) as Registration;
  } catch {
    return undefined;
  }
}

function mtimeMs(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function ownerAlive(r: Registration): boolean {
  return pidAlive(r.owner) && (!r.ownerStart || processStartTime(r.owner) === r.ownerStart);
}

const nsenterPrefix = (netns?: string): string[] => (netns ? ['nsenter', `--net=/run/netns/${netns}`, '--'] : []);

/** Everything one engine left: its processes and their containers, mounts, folders, netns, firewall rule. */
function teardown(r: Registration): void {
  const engine = processesMentioning(r.execRoot);
  const victims = [...engine, ...engine.flatMap((p) => descendants(p))];
  killPids(victims, 'SIGKILL');
  waitGoneSync(victims, 5_000);
  for (const root of [r.execRoot, r.dataRoot]) {
    for (const m of mountsUnder(root)) run(['umount', '-l', m], { allowFail: true });
  }
  if (r.bridge) {
    for (let i = 0; i < 10; i++) {
      const del = [
        ...nsenterPrefix(r.netns),
        'iptables',
        '-D',
        'DOCKER-USER',
        '-i',
        r.bridge,
        '-o',
        r.bridge,
        '-j',
        'ACCEPT',
      ];
      if (run(del, { allowFail: true }).status !== 0) break;
    }
  }
  if (r.ownNetns && r.netns) run(['ip', 'netns', 'del', r.netns], { allowFail: true });
  rmSync(r.execRoot, { recursive: true, force: true });
  rmSync(r.dataRoot, { recursive: true, force: true });
}

/** Tears down engines whose test run died, so their ids, folders and namespaces are free again. */
export function cleanStaleDockerds(): void {
  if (!existsSync(DOCKERD_REGISTRY)) return;
  for (const f of readdirSync(DOCKERD_REGISTRY)) {
    const m = /^(\d+)\.json$/.exec(f);
    if (!m) continue;
    const id = Number(m[1]);
    const r = readReg(id);
    if (r && ownerAlive(r)) continue;
    // Claimed but not written yet (or torn): another run is in the middle of starting.
    if (!r && Date.now() - mtimeMs(regFile(id)) < 10_000) continue;
    if (r) teardown(r);
    rmSync(regFile(id), { force: true });
  }
}

function claimId(base: Omit<Registration, 'execRoot' | 'dataRoot' | 'netns'> & { netns?: string }): {
  id: number;
  reg: Registration;
} {
  mkdirSync(DOCKERD_REGISTRY, { recursive: true, mode: 0o755 });
  for (let id = 1; id <= MAX_ID; id++) {
    const reg: Registration = {
      ...base,
      execRoot: join(DOCKERD_REGISTRY, `${id}.x`),
      dataRoot: join(DOCKERD_DATA, String(id)),
      netns: base.ownNetns ? `vtd${id}` : base.netns,
    };
    try {
      const fd = openSync(regFile(id), 'wx', 0o644);
      writeFileSync(fd, JSON.stringify(reg));
      closeSync(fd);
      return { id, reg };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`No free test dockerd id in 1..${MAX_ID} under ${DOCKERD_REGISTRY}`);
}

/** Waits until the engine answers a ping; the last error when it is alive but still silent after `ms`. */
async function waitForPing(engine: EngineClient, pid: number, log: string, ms: number): Promise<Error | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      await engine.send({ method: 'GET', path: '/_ping', accept: [200], what: 'answer a ping' }, { timeoutMs: 1_000 });
      return undefined;
    } catch (err) {
      if (!pidAlive(pid)) throw new Error(`dockerd exited while starting; its log:\n${tail(log)}`);
      if (Date.now() > until) return err as Error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts a private engine and waits until it answers. Needs root. */
export async function startDockerd(opts: DockerdOptions): Promise<Dockerd> {
  if (opts.netns && opts.ownNetns) throw new Error('startDockerd: give netns or ownNetns, not both');
  cleanStaleDockerds();
  mkdirSync(opts.dir, { recursive: true });
  const { id, reg } = claimId({
    owner: process.pid,
    ownerStart: processStartTime(process.pid),
    dir: opts.dir,
    netns: opts.netns,
    ownNetns: opts.ownNetns,
    bridge: opts.bridge,
  });
  const save = () => writeFileSync(regFile(id), JSON.stringify(reg));
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', stopSync);
    teardown(reg);
    rmSync(regFile(id), { force: true });
  };
  // A test run that ends without calling stop() (a crash, process.exit) still cleans up.
  process.on('exit', stopSync);
  try {
    if (reg.ownNetns && reg.netns) {
      run(['ip', 'netns', 'del', reg.netns], { allowFail: true });
      run(['ip', 'netns', 'add', reg.netns]);
      run(['ip', '-n', reg.netns, 'link', 'set', 'lo', 'up']);
    }
    mkdirSync(reg.execRoot, { recursive: true, mode: 0o700 });
    mkdirSync(reg.dataRoot, { recursive: true, mode: 0o700 });
    const socket = opts.socketPath ?? join(opts.dir, 'docker.sock');
    const log = join(opts.dir, 'dockerd.log');
    const config = join(opts.dir, 'daemon.json');
    writeFileSync(config, '{}\n'); // not /etc/docker/daemon.json: nothing from the machine's setup
    const argv = [
      ...nsenterPrefix(reg.netns),
      'dockerd',
      '--host',
      `unix://${socket}`,
      '--data-root',
      reg.dataRoot,
      '--exec-root',
      reg.execRoot,
      '--pidfile',
      join(reg.execRoot, 'dockerd.pid'),
      '--config-file',
      config,
      '--containerd-namespace',
      `vendetta-test-${id}`,
      '--containerd-plugins-namespace',
      `vendetta-test-${id}-plugins`,
      '--shutdown-timeout',
      '2',
      ...(opts.bip ? ['--bip', opts.bip] : []),
      ...(opts.group ? ['--group', opts.group] : []),
    ];
    const launch = async (): Promise<number> => {
      const out = openSync(log, 'a');
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', out, out], detached: true });
      closeSync(out);
      child.unref();
      // nsenter execs dockerd in place, so the pid is dockerd's.
      reg.dockerdPid = child.pid!;
      save();
      const ms = opts.readyTimeoutMs ?? 30_000;
      const silent = await waitForPing(engine, child.pid!, log, ms);
      if (!silent) return child.pid!;
      // Alive but not answering (seen once on a machine's first run, its log ending at "API
      // listen"): its goroutines go to its log (SIGUSR1), for the error or for a look later.
      killPids([child.pid!], 'SIGUSR1');
      await new Promise((r) => setTimeout(r, 1_000));
      killPids([child.pid!], 'SIGKILL');
      while (pidAlive(child.pid!)) await new Promise((r) => setTimeout(r, 50));
      throw new Error(`dockerd did not answer /_ping within ${ms} ms (${silent.message}); its log:\n${tail(log)}`);
    };
    const engine = new EngineClient(socket, 30_000);
    // One more start when the first stalls; a second stall is the error.
    let pid = await launch().catch((err: Error) => {
      if (!/did not answer/.test(err.message)) throw err;
      process.stderr.write(`test dockerd ${id} stalled; starting it again: ${err.message.split('\n')[0]}\n`);
      return launch();
    });
    if (opts.bridge)
      run([
        ...nsenterPrefix(reg.netns),
        'iptables',
        '-I',
        'DOCKER-USER',
        '-i',
        opts.bridge,
        '-o',
        opts.bridge,
        '-j',
        'ACCEPT',
      ]);
    const stop = async (): Promise<void> => {
      if (stopped) return;
      // Containers first, all at once: a PID 1 that ignores SIGTERM would make dockerd wait.
      try {
        const list = await engine.json(
          { method: 'GET', path: '/containers/json', query: { all: 1 }, accept: [200], what: 'list containers' },
          { timeoutMs: 5_000 },
        );
        await Promise.all(
          (list.value as Array<{ Id: string }>).map((c) =>
            engine
              .send(
                {
                  method: 'DELETE',
                  path: `/containers/${c.Id}`,
                  query: { force: 1, v: 1 },
                  accept: [204, 404, 409],
                  what: 'remove',
                },
                { timeoutMs: 10_000 },
              )
              .catch(() => undefined),
          ),
        );
      } catch {
        // the engine is gone already; teardown kills what is left
      }
      await terminate();
      stopSync();
    };
    const terminate = async (): Promise<void> => {
      killPids([pid], 'SIGTERM');
      const until = Date.now() + 15_000;
      while (pidAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    };
    const d: Dockerd = {
      id,
      socket,
      host: `unix://${socket}`,
      pid,
      netns: reg.netns,
      log,
      nsenter: nsenterPrefix(reg.netns),
      engine,
      stop,
      async restart() {
        await terminate();
        pid = await launch();
        d.pid = pid;
      },
    };
    return d;
  } catch (err) {
    stopSync();
    throw err;
  }
}
