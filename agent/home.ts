/** The agent's home on a node and the files in it. */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { AGENT_HOME_ENV, AGENT_SOCKET_NAME, AGENT_SYNC_SOCKET_NAME, DEFAULT_AGENT_HOME_DIR } from './protocol';
import { AgentError } from './errors';

export interface AgentPaths {
  home: string;
  socket: string;
  /** The daemon's socket for code-sync streams. */
  syncSocket: string;
  /** Pid lock of the running daemon (JSON {pid, startedAt}). */
  pidFile: string;
  logs: string;
  log: string;
  /** The detached daemon's stdout/stderr: what a crash before logging started leaves behind. */
  daemonOutput: string;
  state: string;
}

/** Longest Unix socket path Linux accepts (sun_path is 108 bytes with the NUL). */
const MAX_SOCKET_PATH = 107;

export function agentHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[AGENT_HOME_ENV];
  return resolve(fromEnv && fromEnv.length > 0 ? fromEnv : join(homedir(), DEFAULT_AGENT_HOME_DIR));
}

export function agentPaths(home: string = agentHome()): AgentPaths {
  const logs = join(home, 'logs');
  return {
    home,
    socket: join(home, AGENT_SOCKET_NAME),
    syncSocket: join(home, AGENT_SYNC_SOCKET_NAME),
    pidFile: join(home, 'daemon.pid'),
    logs,
    log: join(logs, 'agent.log'),
    daemonOutput: join(logs, 'daemon.out'),
    state: join(home, 'state'),
  };
}

/** Creates the home (0700) and its folders; tightens a home that is readable by others. */
export function ensureAgentHome(paths: AgentPaths): void {
  if (Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH) {
    throw new AgentError('INTERNAL', `The agent socket path is too long for a Unix socket: ${paths.socket}`, {
      hint: `Set ${AGENT_HOME_ENV} to a shorter directory.`,
    });
  }
  try {
    mkdirSync(paths.home, { recursive: true, mode: 0o700 });
    if ((statSync(paths.home).mode & 0o077) !== 0) chmodSync(paths.home, 0o700);
    for (const dir of [paths.logs, paths.state]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new AgentError('INTERNAL', `Cannot create the agent home ${paths.home}`, {
      hint: `Check that this user may write there, or set ${AGENT_HOME_ENV}.`,
      cause: err,
    });
  }
}
