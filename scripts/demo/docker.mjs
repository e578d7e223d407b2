// The Docker engine the demo uses: the one DOCKER_HOST names, else the system socket, else (as root)
// a private dockerd this demo starts and leaves running, with its data under
// ${XDG_DATA_HOME:-~/.local/share}/vendetta/dockerd and its socket where the local agent looks
// (/var/run/docker.sock when free, else this user's /run/user/<uid>/docker.sock).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ensurePackages } from './packages.mjs';

export const SYSTEM_SOCKET = '/var/run/docker.sock';

/** GET /_ping on a Unix socket: true when an engine answers OK. */
export function ping(socket, timeoutMs = 2_000) {
  return new Promise((resolve) => {
    const req = request({ socketPath: socket, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export function dockerdDir(env = process.env) {
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'vendetta', 'dockerd');
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function readState(file) {
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
    if (!host.startsWith('unix://')) return { error: `DOCKER_HOST=${host} is not a Unix socket`, hint: 'The local agent talks to a local engine only: unset DOCKER_HOST or set it to unix:///path/to/docker.sock.' };
    const socket = host.slice('unix://'.length);
    if (await ping(socket)) return { socket, started: false };
    return { error: `no Docker engine answers on ${socket} (DOCKER_HOST)`, hint: 'Start that engine, or unset DOCKER_HOST so the demo can use or start one itself.' };
  }
  const rootless = process.getuid ? `/run/user/${process.getuid()}/docker.sock` : undefined;
  const dir = dockerdDir(env);
  const stateFile = join(dir, 'dockerd.json');
  const prior = readState(stateFile);
  for (const socket of [rootless, SYSTEM_SOCKET]) {
    if (!socket || !existsSync(socket) || !(await ping(socket))) continue;
    // The private dockerd an earlier demo started still serves: name it, so the clean-up lines do.
    const ours = prior?.socket === socket && prior.pid && pidAlive(prior.pid);
    return ours ? { socket, started: false, pid: prior.pid, log: prior.log, stateFile } : { socket, started: false };
  }
  if (!isRoot()) {
    return {
      error: 'no Docker engine answers on /var/run/docker.sock (or DOCKER_HOST), and only root may start one',
      hint: 'Run `npm run demo` as root (it then starts a private dockerd), or start Docker yourself (`apt-get install docker.io`, then dockerd or rootless Docker) and run it again.',
    };
  }
  const missing = ensurePackages({ dockerd: 'docker.io', iptables: 'iptables' }, 'a private Docker engine', say);
  if (missing) return missing;
  if (prior?.pid && pidAlive(prior.pid) && (await waitPing(prior.socket, 5_000))) return { socket: prior.socket, started: false, pid: prior.pid, log: prior.log, stateFile }; // still starting
  // A socket file nobody answers on: ours from a dockerd that died (remove it), or someone else's (leave it).
  let socket = SYSTEM_SOCKET;
  if (existsSync(SYSTEM_SOCKET)) {
    if (prior?.socket === SYSTEM_SOCKET) rmSync(SYSTEM_SOCKET, { force: true });
    else socket = rootless ?? SYSTEM_SOCKET;
  }
  if (socket !== SYSTEM_SOCKET && existsSync(socket)) rmSync(socket, { force: true });
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
  const execRoot = '/run/vendetta-dockerd';
  mkdirSync(dataRoot, { recursive: true, mode: 0o700 });
  mkdirSync(join(socket, '..'), { recursive: true, mode: 0o755 });
  const log = join(dir, 'dockerd.log');
  const config = join(dir, 'daemon.json');
  if (!existsSync(config)) writeFileSync(config, '{}\n');
  const argv = ['--host', `unix://${socket}`, '--data-root', dataRoot, '--exec-root', execRoot, '--pidfile', join(dir, 'dockerd.pid'), '--config-file', config, '--containerd-namespace', 'vendetta-demo', '--containerd-plugins-namespace', 'vendetta-demo-plugins'];
  say(`  no Docker engine answers: starting a private dockerd on ${socket}\n`);
  const out = openSync(log, 'a');
  const child = spawn('dockerd', argv, { stdio: ['ignore', out, out], detached: true });
  closeSync(out);
  child.unref();
  const pid = child.pid;
  writeFileSync(stateFile, JSON.stringify({ pid, socket, log, dataRoot, execRoot, startedAt: new Date().toISOString() }) + '\n');
  if (!(await waitPing(socket, 60_000))) {
    const tail = readFileSync(log, 'utf8').split('\n').slice(-15).join('\n');
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
    return { error: `the private dockerd did not answer on ${socket} within 60 s`, hint: `Its log is ${log}:\n${tail}` };
  }
  return { socket, started: true, pid, log, stateFile };
}
