/** Docker: the Engine API over its Unix socket, `GET /version`. */
import { existsSync } from 'node:fs';
import type { DockerStatus } from '../../protocol';
import type { ProbeOutcome, ProbeRunner } from '../contract';
import { socketFailure, type SocketApi } from '../socketErrors';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

export const dockerApiDescription: SocketApi = {
  what: 'Docker engine',
  startHint:
    'Install Docker (e.g. `apt-get install docker.io`) and start it, or set DOCKER_HOST=unix:///path/to/docker.sock for the agent.',
  group: 'docker',
};

export interface SocketLookup {
  uid?: number;
  exists?: (path: string) => boolean;
}

/** Where a rootless engine of this user listens (its own convention). */
export function rootlessDockerSocket(uid: number): string {
  return `/run/user/${uid}/docker.sock`;
}

/**
 * The socket DOCKER_HOST names; else this user's rootless engine if its socket exists; else the
 * system one. Or why DOCKER_HOST cannot be used.
 */
export function dockerSocket(
  env: NodeJS.ProcessEnv,
  lookup: SocketLookup = {},
): { socket: string } | { error: string; hint: string } {
  const host = env.DOCKER_HOST?.trim();
  if (!host) {
    const uid = lookup.uid ?? process.getuid?.();
    const rootless = uid === undefined ? undefined : rootlessDockerSocket(uid);
    if (rootless && (lookup.exists ?? existsSync)(rootless)) return { socket: rootless };
    return { socket: DEFAULT_DOCKER_SOCKET };
  }
  if (host.startsWith('unix://') && host.length > 'unix://'.length) return { socket: host.slice('unix://'.length) };
  return {
    error: `DOCKER_HOST=${host} is not a Unix socket; the agent talks to the local engine only`,
    hint: 'Unset DOCKER_HOST for the agent, or set it to unix:///var/run/docker.sock.',
  };
}

/** The engine's `/version` answer: its version and API version. */
export function parseDockerVersion(body: string): { version: string; apiVersion?: string } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.Version !== 'string' || o.Version.length === 0) return undefined;
  return { version: o.Version, ...(typeof o.ApiVersion === 'string' ? { apiVersion: o.ApiVersion } : {}) };
}

export function dockerStatusFrom(socket: string, outcome: ProbeOutcome, timeoutMs: number): DockerStatus {
  if (!outcome.ok)
    return { available: false, socket, ...socketFailure(dockerApiDescription, socket, outcome, timeoutMs) };
  const parsed = parseDockerVersion(outcome.body);
  if (!parsed) {
    return {
      available: false,
      socket,
      error: `the program on ${socket} does not answer like a Docker engine (unexpected /version reply)`,
    };
  }
  return { available: true, socket, ...parsed };
}

export async function detectDocker(
  env: NodeJS.ProcessEnv,
  runner: ProbeRunner,
  timeoutMs: number,
): Promise<DockerStatus> {
  const where = dockerSocket(env);
  if ('error' in where) return { available: false, error: where.error, hint: where.hint };
  const outcome = await runner.run({ kind: 'http-unix', socketPath: where.socket, path: '/version' }, timeoutMs);
  return dockerStatusFrom(where.socket, outcome, timeoutMs);
}
