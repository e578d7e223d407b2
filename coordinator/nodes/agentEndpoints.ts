/**
 * Where each node's agent daemon listens, as it said in its last `initialize`
 * (`state/agent-endpoints.json`). With it, a coordinator that starts afresh opens an SSH
 * streamlocal channel straight to the daemon's socket instead of running the probe script and
 * `node agent.js attach` (two Node.js starts on the node per connect). It is only a hint: a
 * wrong or stale entry costs one refused channel, then the connect attaches as before.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HomePaths } from '../home';
import { writeFileAtomicSync } from '../../common/fs/atomicWrite';

export interface AgentEndpoint {
  /** Absolute path of the daemon's Unix socket on the node. */
  socket: string;
  /** Build of the daemon that listens there: a coordinator of another build attaches (and upgrades). */
  buildId: string;
  /** Node.js binary and agent.js of that daemon, for agent commands (sync-receive). */
  execPath?: string;
  script?: string;
}

/** Longest Unix socket path Linux accepts. */
const MAX_SOCKET_PATH = 107;

export function endpointKey(t: { user: string; host: string; port: number }): string {
  return `${t.user}@${t.host}:${t.port}`;
}

export function endpointsFile(paths: HomePaths): string {
  return join(paths.stateDir, 'agent-endpoints.json');
}

const isPath = (v: unknown): v is string =>
  typeof v === 'string' && v.startsWith('/') && !v.includes('\0') && v.length <= 4096;

/** An endpoint as read from the file or an initialize reply; undefined for anything malformed. */
export function validEndpoint(raw: unknown): AgentEndpoint | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  const r = raw as Record<string, unknown>;
  if (!isPath(r.socket) || Buffer.byteLength(r.socket) > MAX_SOCKET_PATH) return undefined;
  if (typeof r.buildId !== 'string' || !/^[0-9A-Za-z]{4,64}$/.test(r.buildId)) return undefined;
  const e: AgentEndpoint = { socket: r.socket, buildId: r.buildId };
  if (isPath(r.execPath) && isPath(r.script)) {
    e.execPath = r.execPath;
    e.script = r.script;
  }
  return e;
}

function readAll(file: string): Record<string, unknown> {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
  } catch {
    return {}; // none yet, or unreadable: every node attaches
  }
}

export class AgentEndpoints {
  constructor(private readonly file: string) {}

  get(key: string): AgentEndpoint | undefined {
    return validEndpoint(readAll(this.file)[key]);
  }

  /** Records (or, with undefined, forgets) one node's endpoint; unchanged entries are not rewritten. */
  set(key: string, endpoint: AgentEndpoint | undefined): void {
    const all = readAll(this.file);
    if (JSON.stringify(all[key]) === JSON.stringify(endpoint)) return;
    if (endpoint) all[key] = endpoint;
    else delete all[key];
    writeFileAtomicSync(this.file, JSON.stringify(all, null, 2) + '\n', { createDir: true });
  }
}
