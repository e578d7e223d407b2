/**
 * Private LXD daemons for tests (TEST-INFRA.md): `lxd --group root` with its own LXD_DIR, in a
 * network namespace of its own (loopback only) or a node's, and in a mount namespace of its own
 * (its mounts vanish with it). Preseeded with a `dir` storage pool and a default profile without
 * a NIC: workspaces are reached through proxy devices, which connect to the instance's own
 * loopback, so no bridge (and no dnsmasq) is needed. The Debian test image (systemd + OpenSSH,
 * debootstrapped once per machine and cached) is imported under TEST_LXD_IMAGE.
 * Each daemon registers itself in /tmp/vendetta-test-lxd/<id>.json with its owner's pid; one
 * whose owner died (a killed test run) is torn down by the next start: by PID, folders, netns.
 *
 *   registry /tmp/vendetta-test-lxd/<id>.json   LXD_DIR /var/tmp/vendetta-test-lxd/<id>   netns vtl<id>
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
import { LxdClient } from '../../agent/providers/lxc/client';
import { descendants, killPids, pidAlive, processesMentioning, processStartTime, run, waitGoneSync } from './sys';

export const LXD_REGISTRY = '/tmp/vendetta-test-lxd';
export const LXD_DATA = '/var/tmp/vendetta-test-lxd';
export const TEST_LXD_IMAGE = 'vendetta-test/debian-bookworm';
const MAX_ID = 100;
const BUILD_SCRIPT = join(__dirname, '../../scripts/image/build-debian-image.mjs');

export interface LxdOptions {
  /** Run inside this existing network namespace (/run/netns/<name>); else one of its own. */
  netns?: string;
  /**
   * Run in this process's own network namespace instead: proxy devices then listen on the
   * loopback that programs this process starts use (code-server, the coordinator its extension
   * launches, that coordinator's local agent).
   */
  callersNetwork?: boolean;
  readyTimeoutMs?: number;
  /** false: no preseed and no image (a cluster member is initialised by lxdCluster.ts). */
  init?: boolean;
}

export interface Lxd {
  id: number;
  /** LXD_DIR: the agent finds the socket through it. */
  dir: string;
  socket: string;
  readonly pid: number;
  /** Its network namespace (/run/netns/<name>); empty with callersNetwork. */
  netns: string;
  log: string;
  /** argv prefix that runs a command in the daemon's network namespace. */
  nsenter: string[];
  client: LxdClient;
  /** Kills the daemon (its instances keep running) and starts it again on the same folder. */
  stopDaemon(): Promise<void>;
  startDaemon(): Promise<void>;
  /** Env for the `lxc` client against this daemon (a private LXD_CONF). */
  env: Record<string, string>;
  /** Workspace instances (config key user.vendetta.workspace), running or not. */
  instances(): Promise<
    Array<{ name: string; status: string; workspace: string; devices: Record<string, Record<string, string>> }>
  >;
  stop(): Promise<void>;
}

interface Registration {
  owner: number;
  ownerStart?: string;
  lxdPid?: number;
  dir: string;
  netns: string;
  ownNetns: boolean;
}

const regFile = (id: number) => join(LXD_REGISTRY, `${id}.json`);

function readReg(id: number): Registration | undefined {
  try {
    return JSON.parse(readFileSync(regFile(id), 'utf8')) as Registration;
  } catch {
    return undefined;
  }
}

function youngerThan(file: string, ms: number): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs < ms;
  } catch {
    return false;
  }
}

/** Everything one daemon left: its processes (the daemon, instance monitors and their trees), folder, netns. */
function teardown(r: Registration): void {
  // With the slash: /…/1 must not match the folder of daemon 12.
  const found = processesMentioning(`${r.dir}/`);
  if (r.lxdPid && pidAlive(r.lxdPid)) found.push(r.lxdPid);
  const victims = [...new Set([...found, ...found.flatMap((p) => descendants(p))])];
  killPids(victims, 'SIGKILL');
  waitGoneSync(victims, 5_000);
  if (r.ownNetns) run(['ip', 'netns', 'del', r.netns], { allowFail: true });
  rmSync(r.dir, { recursive: true, force: true });
}

/** Tears down daemons whose test run died, so their ids, folders and namespaces are free again. */
export function cleanStaleLxds(): void {
  if (!existsSync(LXD_REGISTRY)) return;
  for (const f of readdirSync(LXD_REGISTRY)) {
    const m = /^(\d+)\.json$/.exec(f);
    if (!m) continue;
    const id = Number(m[1]);
    const r = readReg(id);
    if (r && pidAlive(r.owner) && (!r.ownerStart || processStartTime(r.owner) === r.ownerStart)) continue;
    if (!r && youngerThan(regFile(id), 10_000)) continue; // claimed, not written yet
    if (r) teardown(r);
    rmSync(regFile(id), { force: true });
  }
}

function claimId(netns: string | undefined): { id: number; reg: Registration } {
  mkdirSync(LXD_REGISTRY, { recursive: true, mode: 0o755 });
  for (let id = 1; id <= MAX_ID; id++) {
    const reg: Registration = {
      owner: process.pid,
      ownerStart: processStartTime(process.pid),
      dir: join(LXD_DATA, String(id)),
      netns: netns ?? `vtl${id}`,
      ownNetns: netns === undefined,
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
  throw new Error(`No free test LXD id in 1..${MAX_ID} under ${LXD_REGISTRY}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitReady(client: LxdClient, pid: number, log: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const r = await client.json(
        { method: 'GET', path: '/1.0', accept: [200], what: 'describe itself' },
        { timeoutMs: 2_000 },
      );
      // The API answers before the daemon has finished starting; `auth: trusted` comes with the full reply.
      if ((r.value as { metadata?: { environment?: unknown } }).metadata?.environment) return;
    } catch (err) {
      if (!pidAlive(pid)) throw new Error(`lxd exited while starting; its log:\n${tail(log)}`);
      if (Date.now() > until)
        throw new Error(`lxd did not answer within ${ms} ms (${(err as Error).message}); its log:\n${tail(log)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const LXD_PRESEED = `storage_pools:
- name: default
  driver: dir
profiles:
- name: default
  devices:
    root: {path: /, pool: default, type: disk}
`;

/** `lxd init --preseed` against one daemon, run in its network namespace (a join dials the cluster from there). */
export function lxdInit(lxd: { env: Record<string, string>; nsenter: string[] }, preseed: string): void {
  run([...lxd.nsenter, 'env', ...Object.entries(lxd.env).map(([k, v]) => `${k}=${v}`), 'lxd', 'init', '--preseed'], {
    input: preseed,
    timeoutMs: 120_000,
  });
}

/** The cached systemd tree (built once per machine, ~1–8 min cold), imported with a metadata.yaml. */
export function importTestImage(lxd: { dir: string; env: Record<string, string> }): void {
  const built = run([process.execPath, BUILD_SCRIPT, '--init', 'systemd'], { timeoutMs: 1_800_000 });
  const { tar } = JSON.parse(built.stdout.trim().split('\n').pop() ?? '{}') as { tar: string };
  const meta = join(lxd.dir, 'image-meta');
  mkdirSync(meta, { recursive: true });
  writeFileSync(
    join(meta, 'metadata.yaml'),
    `architecture: x86_64\ncreation_date: ${Math.floor(Date.now() / 1000)}\nproperties:\n  description: Debian bookworm with systemd and OpenSSH (vendetta tests)\n  os: debian\n  release: bookworm\n`,
  );
  run(['tar', '-C', meta, '-cf', join(meta, 'metadata.tar'), 'metadata.yaml']);
  run(
    [
      'env',
      ...Object.entries(lxd.env).map(([k, v]) => `${k}=${v}`),
      'lxc',
      'image',
      'import',
      join(meta, 'metadata.tar'),
      tar,
      '--alias',
      TEST_LXD_IMAGE,
    ],
    { timeoutMs: 300_000 },
  );
  rmSync(meta, { recursive: true, force: true });
}

/** Starts a private LXD with the test image and waits until it answers. Needs root. */
export async function startLxd(opts: LxdOptions = {}): Promise<Lxd> {
  cleanStaleLxds();
  const { id, reg } = claimId(opts.callersNetwork ? '' : opts.netns);
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
    rmSync(reg.dir, { recursive: true, force: true });
    mkdirSync(join(reg.dir, 'conf'), { recursive: true, mode: 0o711 });
    if (reg.ownNetns) {
      run(['ip', 'netns', 'del', reg.netns], { allowFail: true });
      run(['ip', 'netns', 'add', reg.netns]);
      run(['ip', '-n', reg.netns, 'link', 'set', 'lo', 'up']);
    }
    const nsenter = opts.callersNetwork ? [] : ['nsenter', `--net=/run/netns/${reg.netns}`, '--'];
    const log = join(reg.dir, 'lxd.log');
    const socket = join(reg.dir, 'unix.socket');
    const client = new LxdClient(socket, 60_000);
    let pid = 0;
    const startDaemon = async (): Promise<void> => {
      const out = openSync(join(reg.dir, 'lxd.out'), 'a');
      // nsenter and unshare exec in place, so the pid is lxd's; its mounts stay in its own namespace.
      const argv = [
        ...nsenter,
        'unshare',
        '--mount',
        '--propagation',
        'slave',
        '--',
        'lxd',
        '--group',
        'root',
        '--logfile',
        log,
      ];
      const child = spawn(argv[0]!, argv.slice(1), {
        stdio: ['ignore', out, out],
        detached: true,
        env: { ...process.env, LXD_DIR: reg.dir },
      });
      closeSync(out);
      child.unref();
      pid = child.pid!;
      reg.lxdPid = pid;
      save();
      await waitReady(client, pid, join(reg.dir, 'lxd.out'), opts.readyTimeoutMs ?? 60_000);
    };
    /**
     * The daemon alone dies (SIGKILL: a clean SIGTERM waits for every running exec, which a
     * workspace's services keep open); its instances keep running, as after a daemon crash.
     */
    const stopDaemon = async (): Promise<void> => {
      killPids([pid], 'SIGKILL');
      if (!waitGoneSync([pid], 10_000)) throw new Error(`lxd ${pid} did not exit within 10 s of SIGKILL`);
    };
    await startDaemon();
    const env = { LXD_DIR: reg.dir, LXD_CONF: join(reg.dir, 'conf') };
    if (opts.init !== false) {
      lxdInit({ env, nsenter }, LXD_PRESEED);
      importTestImage({ dir: reg.dir, env });
    }
    const stop = async (): Promise<void> => {
      if (stopped) return;
      // Instances first (forced: a test has nothing to save), then the daemon by its PID.
      try {
        const list = await client.json(
          { method: 'GET', path: '/1.0/instances', accept: [200], what: 'list instances' },
          { timeoutMs: 5_000 },
        );
        const names = ((list.value as { metadata?: string[] }).metadata ?? []).map((p) => p.split('/').pop()!);
        await Promise.all(
          names.map((n) =>
            client
              .operation(
                {
                  method: 'PUT',
                  path: `/1.0/instances/${n}/state`,
                  json: { action: 'stop', force: true },
                  accept: [202, 404],
                  what: `stop ${n}`,
                },
                20_000,
              )
              .catch(() => undefined),
          ),
        );
      } catch {
        // the daemon is gone already; teardown kills what is left
      }
      killPids([pid], 'SIGTERM');
      if (!waitGoneSync([pid], 15_000)) killPids([pid], 'SIGKILL');
      stopSync();
    };
    return {
      id,
      dir: reg.dir,
      socket,
      get pid() {
        return pid;
      },
      stopDaemon,
      startDaemon,
      netns: reg.netns,
      log,
      nsenter,
      client,
      env,
      async instances() {
        const r = await client.json({
          method: 'GET',
          path: '/1.0/instances',
          query: { recursion: 1 },
          accept: [200],
          what: 'list instances',
        });
        const all = (
          r.value as {
            metadata: Array<{
              name: string;
              status: string;
              config: Record<string, string>;
              devices: Record<string, Record<string, string>>;
            }>;
          }
        ).metadata;
        return all
          .filter((i) => i.config['user.vendetta.workspace'] !== undefined)
          .map((i) => ({
            name: i.name,
            status: i.status,
            workspace: i.config['user.vendetta.workspace']!,
            devices: i.devices,
          }));
      },
      stop,
    };
  } catch (err) {
    stopSync();
    throw err;
  }
}
