/**
 * `vendetta-agent attach`: the coordinator's way in. Connects to the daemon's socket — starting
 * the daemon, detached in its own session, when nobody answers — then copies stdin to the socket
 * and the socket to stdout, byte for byte, until either side ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, statSync, truncateSync, watch, type FSWatcher } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { basename, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { AgentError, errnoCode } from '../errors';
import type { AgentPaths } from '../home';
import type { Logger } from '../log/logger';
import { lockHolder } from '../daemon/lock';
import { AGENT_READY_FD_ENV } from '../protocol';

export interface AttachOptions {
  paths: AgentPaths;
  logger: Logger;
  stdin: Readable;
  stdout: Writable;
  /** How long to wait for a daemon to answer on the socket. */
  startTimeoutMs?: number;
  /** Starts a daemon; the default re-runs this program with `daemon`, detached. */
  startDaemon?: (paths: AgentPaths) => ChildProcess;
  /**
   * A daemon was started beside this attach (the setup script does so after a fresh install, so
   * the two Node.js start at once): wait this long for its socket before starting one.
   */
  startedElsewhereMs?: number;
}

/** The daemon's stdout/stderr file is cut back when it grows past this. */
const DAEMON_OUTPUT_MAX = 1024 * 1024;

export async function runAttach(opts: AttachOptions): Promise<number> {
  const socket = await connectOrStart(opts);
  return bridge(socket, opts.stdin, opts.stdout, opts.logger);
}

/** Tries the socket; when nobody answers, starts a daemon (unless one is starting) and waits. */
export async function connectOrStart(opts: Omit<AttachOptions, 'stdin' | 'stdout'>): Promise<Socket> {
  const { paths, logger } = opts;
  const deadline = Date.now() + (opts.startTimeoutMs ?? 10_000);
  const start = opts.startDaemon ?? startDetachedDaemon;
  const othersUntil = Date.now() + (opts.startedElsewhereMs ?? 0);
  let child: { proc: ChildProcess; exit?: number | null; ready?: Promise<void> } | undefined;
  let lastError: unknown;
  for (let delay = 20; ; delay = Math.min(delay * 2, 200)) {
    try {
      return await connectSocket(paths.socket);
    } catch (err) {
      lastError = err;
      const code = errnoCode(err);
      if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw cannotConnect(paths, err);
    }
    // A live lock holder is a daemon starting up (or stopping): wait for it instead of racing it.
    const childGone = child !== undefined && child.exit !== undefined;
    const startedElsewhere = child === undefined && Date.now() < othersUntil;
    if (!startedElsewhere && !lockHolder(paths.pidFile) && (child === undefined || childGone)) {
      if (childGone && child!.exit !== 0) {
        throw new AgentError('INTERNAL', `The agent daemon exited with code ${child!.exit} while starting`, {
          hint: `See ${paths.log} and ${paths.daemonOutput} on this node.`,
        });
      }
      const proc = start(paths);
      const started: { proc: ChildProcess; exit?: number | null; ready?: Promise<void> } = {
        proc,
        ready: readySignal(proc),
      };
      proc.once('exit', (code, signal) => (started.exit = code ?? (signal ? 128 : null)));
      proc.once('error', (err) => {
        lastError = err;
        started.exit = 127;
      });
      child = started;
      logger.info('started a daemon', { daemonPid: proc.pid });
    }
    if (Date.now() >= deadline) {
      throw new AgentError(
        'INTERNAL',
        `The agent daemon did not answer on ${paths.socket} within ${(opts.startTimeoutMs ?? 10_000) / 1000} s`,
        {
          hint: `See ${paths.log} and ${paths.daemonOutput} on this node.`,
          cause: lastError,
        },
      );
    }
    const ready = child?.ready;
    if (ready) {
      // The daemon we started says when it listens (or its pipe closes as it exits): no polling.
      child!.ready = undefined;
      await waitAtMost(ready, deadline - Date.now());
    } else {
      await socketAppears(paths, delay);
    }
  }
}

/** Resolves when the daemon writes on its ready pipe (fd 3) or closes it; undefined without one. */
function readySignal(proc: ChildProcess): Promise<void> | undefined {
  const pipe = proc.stdio[3] as Readable | null | undefined;
  if (!pipe) return undefined;
  return new Promise<void>((resolve) => {
    const done = () => {
      pipe.destroy();
      resolve();
    };
    pipe.once('data', done);
    pipe.once('end', done);
    pipe.once('error', done);
  });
}

/**
 * Resolves after `ms`, or as soon as the socket appears in the agent's home (inotify through
 * fs.watch), so a daemon started by someone else is reached when it listens, not a poll later.
 */
function socketAppears(paths: AgentPaths, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let watcher: FSWatcher | undefined;
    const done = () => {
      clearTimeout(timer);
      watcher?.close();
      resolve();
    };
    const timer = setTimeout(done, ms);
    try {
      watcher = watch(paths.home, (_event, name) => {
        if (!name || name === basename(paths.socket)) done();
      });
      watcher.on('error', done);
    } catch {
      // No watching here (an unusual file system): the timer alone.
    }
    if (existsSync(paths.socket)) done(); // appeared before the watch began
  });
}

async function waitAtMost(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, ms))))]);
  clearTimeout(timer);
}

function cannotConnect(paths: AgentPaths, err: unknown): AgentError {
  const code = errnoCode(err);
  const hint =
    code === 'EACCES'
      ? `The socket belongs to another user; run the agent as its owner or set VENDETTA_AGENT_HOME.`
      : `Check ${paths.home} on this node.`;
  return new AgentError('INTERNAL', `Cannot connect to the agent daemon on ${paths.socket}`, { hint, cause: err });
}

export function connectSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * The same program, run with `daemon`, in its own session (detached = setsid) so the end of the
 * SSH session neither signals nor waits for it.
 */
export function startDetachedDaemon(paths: AgentPaths): ChildProcess {
  try {
    if (statSync(paths.daemonOutput).size > DAEMON_OUTPUT_MAX) truncateSync(paths.daemonOutput, 0);
  } catch {
    // not there yet
  }
  const out = openSync(paths.daemonOutput, 'a', 0o600);
  try {
    const script = resolve(process.argv[1] ?? __filename);
    const child = spawn(process.execPath, [...process.execArgv, script, 'daemon'], {
      detached: true,
      stdio: ['ignore', out, out, 'pipe'],
      cwd: paths.home,
      env: { ...process.env, [AGENT_READY_FD_ENV]: '3' },
    });
    child.unref();
    (child.stdio[3] as Socket | null)?.unref();
    return child;
  } finally {
    closeSync(out);
  }
}

/** Copies bytes both ways; resolves with the exit code once either side is done. */
export function bridge(socket: Socket, stdin: Readable, stdout: Writable, logger: Logger): Promise<number> {
  return new Promise((resolveExit) => {
    let done = false;
    const finish = (code: number, why: string): void => {
      if (done) return;
      done = true;
      logger.debug('attach ends', { why });
      stdin.unpipe(socket);
      socket.destroy();
      resolveExit(code);
    };
    stdin.pipe(socket); // stdin's end half-closes the socket: the daemon answers what is in flight, then closes
    socket.pipe(stdout, { end: false });
    socket.on('close', () => finish(0, 'the daemon closed the connection'));
    socket.on('error', (err) => {
      logger.warn('agent socket error', { err });
      finish(1, 'socket error');
    });
    stdout.on('error', () => finish(0, 'stdout closed'));
    stdin.on('end', () => {
      // The daemon closes once it has answered; do not hang if it never does.
      setTimeout(() => finish(0, 'stdin ended and the daemon did not close'), 5_000).unref();
    });
    stdin.on('error', () => finish(0, 'stdin failed'));
  });
}
