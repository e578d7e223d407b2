/**
 * LXC: the LXD/Incus REST API on its Unix socket (`GET /1.0`), else the classic lxc-* tools
 * (`lxc-start --version`).
 */
import type { LxcStatus } from '../../protocol';
import type { ProbeOutcome, ProbeRunner } from '../contract';
import { socketFailure, type Failure, type SocketApi } from '../socketErrors';

export interface LxdSocketCandidate {
  socket: string;
  backend: 'incus' | 'lxd';
}

const api: SocketApi = {
  what: 'LXD/Incus daemon',
  startHint: 'Install Incus or LXD (the agent uses its REST API) or the lxc package (classic lxc-* tools).',
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

/** `GET /1.0`: {metadata: {environment: {server, server_version}}}. */
export function parseLxdServer(body: string): { version: string; backend?: 'incus' | 'lxd' } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return undefined;
  }
  const env = (v as { metadata?: { environment?: Record<string, unknown> } } | null)?.metadata?.environment;
  if (!env || typeof env.server_version !== 'string' || env.server_version.length === 0) return undefined;
  const server = env.server;
  return { version: env.server_version, ...(server === 'incus' || server === 'lxd' ? { backend: server } : {}) };
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
export function lxcStatusFrom(results: LxcProbeResults, timeoutMs: number): LxcStatus {
  let socketProblem: Failure | undefined;
  for (const { candidate, outcome } of results.sockets) {
    if (outcome.ok) {
      const parsed = parseLxdServer(outcome.body);
      if (parsed) return { available: true, version: parsed.version, backend: parsed.backend ?? candidate.backend, socket: candidate.socket };
      socketProblem ??= { error: `the program on ${candidate.socket} does not answer like LXD or Incus (unexpected /1.0 reply)` };
    } else if (outcome.code !== 'ENOENT') {
      // A socket that exists but fails says more than the ones that do not exist.
      socketProblem ??= socketFailure(api, candidate.socket, outcome, timeoutMs);
    }
  }
  const tools = results.tools;
  if (tools.ok) {
    const version = parseLxcToolsVersion(tools.body);
    if (version) return { available: true, version, backend: 'lxc-tools' };
  }
  if (socketProblem) return { available: false, ...socketProblem };
  const looked = results.sockets.map((s) => s.candidate.socket).join(', ');
  const toolsWhy = tools.ok ? 'lxc-start printed no version' : tools.code === 'ENOENT' ? 'lxc-start is not installed' : `lxc-start failed: ${tools.message}`;
  return { available: false, error: `no LXD/Incus API socket answers (looked at ${looked}) and ${toolsWhy}`, hint: api.startHint };
}

export async function detectLxc(env: NodeJS.ProcessEnv, runner: ProbeRunner, timeoutMs: number): Promise<LxcStatus> {
  const candidates = lxdSocketCandidates(env);
  const [sockets, tools] = await Promise.all([
    Promise.all(candidates.map(async (candidate) => ({ candidate, outcome: await runner.run({ kind: 'http-unix', socketPath: candidate.socket, path: '/1.0' }, timeoutMs) }))),
    runner.run({ kind: 'exec', file: 'lxc-start', args: ['--version'] }, timeoutMs),
  ]);
  return lxcStatusFrom({ sockets, tools }, timeoutMs);
}
