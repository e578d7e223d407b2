/**
 * LXC: the LXD/Incus REST API on its Unix socket (`GET /1.0`). The classic lxc-* tools
 * (`lxc-start --version`) are detected too, but alone they are not enough: workspaces are driven
 * through the API, so a node with only the tools is told what to install.
 */
import { existsSync } from 'node:fs';
import type { LxcStatus, LxdClusterMember } from '../../protocol';
import type { ProbeOutcome, ProbeRunner } from '../contract';
import type { FolderMapping } from './api';
import { folderMapping } from './idmap';
import { parseClusterMembers } from './parse';
import { socketFailure, type Failure, type SocketApi } from '../socketErrors';

const AGENT_IDS = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

export interface LxdSocketCandidate {
  socket: string;
  backend: 'incus' | 'lxd';
}

export const lxdApiDescription: SocketApi = {
  what: 'LXD/Incus daemon',
  startHint:
    'Install LXD (`apt install lxd`, then `lxd init`) or Incus, and start it: vendetta drives LXC containers through its REST API.',
  group: 'lxd',
};

/** Where the API sockets live: the daemons' own env overrides first, then the packages' defaults. */
export function lxdSocketCandidates(env: NodeJS.ProcessEnv): LxdSocketCandidate[] {
  const out: LxdSocketCandidate[] = [];
  if (env.INCUS_DIR) out.push({ socket: `${env.INCUS_DIR}/unix.socket`, backend: 'incus' });
  if (env.LXD_DIR) out.push({ socket: `${env.LXD_DIR}/unix.socket`, backend: 'lxd' });
  out.push(
    { socket: '/var/lib/incus/unix.socket', backend: 'incus' },
    { socket: '/var/snap/lxd/common/lxd/unix.socket', backend: 'lxd' },
    { socket: '/var/lib/lxd/unix.socket', backend: 'lxd' },
  );
  return out;
}

/** `GET /1.0`: {metadata: {environment: {server, server_version, kernel_features}}}. */
export function parseLxdServer(
  body: string,
  agentIds: { uid: number; gid: number } = AGENT_IDS,
): { version: string; backend?: 'incus' | 'lxd'; projectFolder: FolderMapping['kind'] } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return undefined;
  }
  const env = (v as { metadata?: { environment?: Record<string, unknown> } } | null)?.metadata?.environment;
  if (!env || typeof env.server_version !== 'string' || env.server_version.length === 0) return undefined;
  const server = env.server;
  const features = env.kernel_features as Record<string, unknown> | undefined;
  const projectFolder = folderMapping({ shiftfs: features?.shiftfs === 'true' }, agentIds).kind;
  return {
    version: env.server_version,
    ...(server === 'incus' || server === 'lxd' ? { backend: server } : {}),
    projectFolder,
  };
}

/** `lxc-start --version` prints the bare version, e.g. `5.0.2`. */
export function parseLxcToolsVersion(stdout: string): string | undefined {
  const m = /^\s*(\d+\.\d+(?:\.\d+)?[^\s]*)\s*$/.exec(stdout);
  return m?.[1];
}

export interface LxcProbeResults {
  sockets: Array<{ candidate: LxdSocketCandidate; outcome: ProbeOutcome }>;
  tools: ProbeOutcome;
}

/** Prefers the first API socket that answers; then the tools; else the most telling failure. */
export function lxcStatusFrom(results: LxcProbeResults, timeoutMs: number, agentIds = AGENT_IDS): LxcStatus {
  let socketProblem: Failure | undefined;
  for (const { candidate, outcome } of results.sockets) {
    if (outcome.ok) {
      const parsed = parseLxdServer(outcome.body, agentIds);
      if (parsed)
        return {
          available: true,
          version: parsed.version,
          backend: parsed.backend ?? candidate.backend,
          socket: candidate.socket,
          projectFolder: parsed.projectFolder,
        };
      socketProblem ??= {
        error: `the program on ${candidate.socket} does not answer like LXD or Incus (unexpected /1.0 reply)`,
      };
    } else if (outcome.code !== 'ENOENT') {
      // A socket that exists but fails says more than the ones that do not exist.
      socketProblem ??= socketFailure(lxdApiDescription, candidate.socket, outcome, timeoutMs);
    }
  }
  const tools = results.tools;
  if (socketProblem) return { available: false, ...socketProblem };
  const toolsVersion = tools.ok ? parseLxcToolsVersion(tools.body) : undefined;
  if (toolsVersion) {
    return {
      available: false,
      version: toolsVersion,
      backend: 'lxc-tools',
      error: `only the classic lxc-* tools (${toolsVersion}) are installed, and no LXD/Incus API socket answers`,
      hint: lxdApiDescription.startHint,
    };
  }
  const looked = results.sockets.map((s) => s.candidate.socket).join(', ');
  const toolsWhy = tools.ok
    ? 'lxc-start printed no version'
    : tools.code === 'ENOENT'
      ? 'lxc-start is not installed'
      : `lxc-start failed: ${tools.message}`;
  return {
    available: false,
    error: `no LXD/Incus API socket answers (looked at ${looked}) and ${toolsWhy}`,
    hint: lxdApiDescription.startHint,
  };
}

/** The members of a clustered LXD (`server_clustered` in its /1.0) and the instances on each. */
export function clusterFrom(members: ProbeOutcome, instances: ProbeOutcome): LxdClusterMember[] | undefined {
  if (!members.ok) return undefined;
  let list;
  try {
    list = parseClusterMembers(JSON.parse(members.body));
  } catch {
    return undefined;
  }
  const count = new Map<string, number>();
  if (instances.ok) {
    try {
      const all = (JSON.parse(instances.body) as { metadata?: unknown }).metadata;
      if (Array.isArray(all))
        for (const i of all) {
          const where = (i as { location?: unknown } | null)?.location;
          if (typeof where === 'string') count.set(where, (count.get(where) ?? 0) + 1);
        }
    } catch {
      // no counts; the members still show
    }
  }
  return list.map((m) => ({ ...m, instances: count.get(m.name) ?? 0 }));
}

const clustered = (outcome: ProbeOutcome): boolean => {
  try {
    return (
      outcome.ok &&
      (JSON.parse(outcome.body) as { metadata?: { environment?: { server_clustered?: unknown } } }).metadata
        ?.environment?.server_clustered === true
    );
  } catch {
    return false;
  }
};

export async function detectLxc(env: NodeJS.ProcessEnv, runner: ProbeRunner, timeoutMs: number): Promise<LxcStatus> {
  const candidates = lxdSocketCandidates(env);
  const [sockets, tools] = await Promise.all([
    Promise.all(
      candidates.map(async (candidate) => ({
        candidate,
        outcome: await runner.run({ kind: 'http-unix', socketPath: candidate.socket, path: '/1.0' }, timeoutMs),
      })),
    ),
    runner.run({ kind: 'exec', file: 'lxc-start', args: ['--version'] }, timeoutMs),
  ]);
  const status = lxcStatusFrom({ sockets, tools }, timeoutMs);
  const used = sockets.find((s) => s.candidate.socket === status.socket);
  if (!status.available || !used || !clustered(used.outcome)) return status;
  const ask = (path: string) => runner.run({ kind: 'http-unix', socketPath: used.candidate.socket, path }, timeoutMs);
  const [members, instances] = await Promise.all([
    ask('/1.0/cluster/members?recursion=1'),
    ask('/1.0/instances?recursion=1&all-projects=true'),
  ]);
  const cluster = clusterFrom(members, instances);
  return cluster ? { ...status, cluster } : status;
}

/**
 * The API socket workspaces use: the first candidate that exists (`LXD_DIR`/`INCUS_DIR` of the
 * agent first), or why there is none. Whether it answers is for the first call to find out.
 */
export function lxdSocket(
  env: NodeJS.ProcessEnv,
  exists: (path: string) => boolean = existsSync,
): { socket: string } | Failure {
  const candidates = lxdSocketCandidates(env);
  const found = candidates.find((c) => exists(c.socket));
  if (found) return { socket: found.socket };
  return {
    error: `no LXD/Incus API socket on this node (looked at ${candidates.map((c) => c.socket).join(', ')})`,
    hint: lxdApiDescription.startHint,
  };
}
