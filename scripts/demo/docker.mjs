// The Docker engine the demo uses: the one DOCKER_HOST names, else the private dockerd an earlier
// demo started, else this user's rootless engine or the system socket, else (as root) a private
// dockerd this demo starts and leaves running. Everything of that private engine lives in
// $VENDETTA_HOME/demo/dockerd (socket, exec root, data, log, trust key) and `npm run demo -- --clean`
// removes it: no /var/run/docker.sock, no /etc/docker, no firewall rules (--iptables=false:
// published ports go through docker-proxy on 127.0.0.1).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ensurePackages } from './packages.mjs';

export const SYSTEM_SOCKET = '/var/run/docker.sock';
/** sun_path holds 108 bytes with its terminating NUL. */
const MAX_SOCKET_PATH = 107;

/** GET /_ping on a Unix socket: `ok`, or the errno (or HTTP status) of the failure. */
export function probe(socket, timeoutMs = 2_000) {
  return new Promise((done) => {
    const req = request({ socketPath: socket, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      done(res.statusCode === 200 ? 'ok' : `HTTP ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => done(err.code ?? err.message));
    req.end();
  });
}

export const ping = async (socket, timeoutMs) => (await probe(socket, timeoutMs)) === 'ok';

/** Vendetta's home, as the CLI resolves it. */
export function vendettaHome(env = process.env) {
  return resolve(env.VENDETTA_HOME || join(homedir(), '.vendetta'));
}

/** Where the demo's private engine keeps everything. */
export function dockerdDir(env = process.env) {
  return join(vendettaHome(env), 'demo', 'dockerd');
}

export function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (err) {
    return err.code === 'EPERM';
  }
}

export function readState(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

const isRoot = () => process.getuid?.() === 0;

/**
 * An engine that answers, as `{ socket, started, pid?, log?, stateFile? }`, or `{ error, hint }`
 * saying what is missing. Starts a private dockerd only as root.
 */
export async function ensureDocker(env = process.env, say = (s) => process.stdout.write(s)) {
  const host = env.DOCKER_HOST?.trim();
  if (host) {
    if (!host.startsWith('unix://'))
      return {
        error: `DOCKER_HOST=${host} is not a Unix socket`,
        hint: 'The local agent talks to a local engine only: unset DOCKER_HOST or set it to unix:///path/to/docker.sock.',
      };
    const socket = host.slice('unix://'.length);
    if (await ping(socket)) return { socket, started: false };
    return {
      error: `no Docker engine answers on ${socket} (DOCKER_HOST)`,
      hint: 'Start that engine, or unset DOCKER_HOST so the demo can use or start one itself.',
    };
  }
  const dir = dockerdDir(env);
  const stateFile = join(dir, 'dockerd.json');
  const prior = readState(stateFile);
  // The private dockerd an earlier demo started (still starting, perhaps): name it, so the clean-up does.
  if (prior?.pid && pidAlive(prior.pid) && (await waitPing(prior.socket, 5_000)))
    return { socket: prior.socket, started: false, pid: prior.pid, log: prior.log, stateFile };
  const rootless = process.getuid ? `/run/user/${process.getuid()}/docker.sock` : undefined;
  let denied;
  for (const socket of [rootless, SYSTEM_SOCKET]) {
    if (!socket || !existsSync(socket)) continue;
    const outcome = await probe(socket);
    if (outcome === 'ok') return { socket, started: false };
    if (outcome === 'EACCES' || outcome === 'EPERM') denied ??= socket;
  }
  if (!isRoot()) {
    if (denied)
      return {
        error: `permission denied on ${denied}: a Docker engine runs there, but this user may not use it`,
        hint: 'Add yourself to the docker group (`usermod -aG docker $USER`, then log in again), or run `npm run demo` as root.',
      };
    return {
      error: 'no Docker engine answers on /var/run/docker.sock (or DOCKER_HOST), and only root may start one',
      hint: 'Run `npm run demo` as root (it then starts a private dockerd), or start Docker yourself (`apt-get install docker.io`, then dockerd or rootless Docker) and run it again.',
    };
  }
  const missing = ensurePackages({ dockerd: 'docker.io' }, 'a private Docker engine', say);
  if (missing) return missing;
  const socket = join(dir, 'docker.sock');
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    return {
      error: `the private engine's socket path ${socket} is longer than a Unix socket allows (${MAX_SOCKET_PATH} bytes)`,
      hint: 'Point VENDETTA_HOME at a shorter folder, or start Docker yourself and set DOCKER_HOST.',
    };
  }
  return startPrivateDockerd(dir, socket, stateFile, say);
}

async function waitPing(socket, ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await ping(socket, 1_000)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function startPrivateDockerd(dir, socket, stateFile, say) {
  const dataRoot = join(dir, 'data');
  const execRoot = join(dir, 'exec');
  mkdirSync(dataRoot, { recursive: true, mode: 0o700 });
  mkdirSync(execRoot, { recursive: true, mode: 0o700 });
  rmSync(socket, { force: true }); // left by a dockerd that died: nobody answers on it
  const log = join(dir, 'dockerd.log');
  const config = join(dir, 'daemon.json');
  // dockerd 20.10 keeps its identity key in /etc/docker unless told otherwise.
  writeFileSync(config, `${JSON.stringify({ 'deprecated-key-path': join(dir, 'key.json') })}\n`);
  // dockerd makes the default bridge docker0 when missing and leaves it on exit: the clean-up
  // removes it only when this engine made it.
  // Asked over netlink: /sys may show another network namespace than the one we run in.
  const bridgeMade = spawnSync('ip', ['link', 'show', 'docker0'], { stdio: 'ignore' }).status !== 0;
  // Two folders no flag moves: dockerd's plugin folder and containerd's shim sockets. Removed by
  // the clean-up, when this engine made them and they are empty again.
  const runDirsMade = ['/run/docker', '/run/containerd'].filter((d) => !existsSync(d));
  const argv = [
    '--host',
    `unix://${socket}`,
    '--data-root',
    dataRoot,
    '--exec-root',
    execRoot,
    '--pidfile',
    join(dir, 'dockerd.pid'),
    '--config-file',
    config,
    '--iptables=false',
    '--containerd-namespace',
    'vendetta-demo',
    '--containerd-plugins-namespace',
    'vendetta-demo-plugins',
  ];
  say(`  no Docker engine answers: starting a private dockerd on ${socket}\n`);
  const out = openSync(log, 'a');
  const child = spawn('dockerd', argv, { stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  child.unref();
  const pid = child.pid;
  writeFileSync(
    stateFile,
    JSON.stringify({
      pid,
      socket,
      log,
      dataRoot,
      execRoot,
      bridge: bridgeMade ? 'docker0' : undefined,
      runDirsMade,
      startedAt: new Date().toISOString(),
    }) + '\n',
  );
  if (!(await waitPing(socket, 60_000))) {
    const tail = readFileSync(log, 'utf8').split('\n').slice(-15).join('\n');
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    return {
      error: `the private dockerd did not answer on ${socket} within 60 s`,
      hint: `Its log is ${log}:\n${tail}`,
    };
  }
  return { socket, started: true, pid, log, stateFile };
}
