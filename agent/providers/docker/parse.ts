/**
 * Engine API replies → what the agent uses. Pure functions, tested against replies recorded
 * from a real engine (test/fixtures/agent/docker-*.json). Replies are untrusted input: every
 * field is checked, and a reply that is not what it should be is an error, never a crash.
 */
import { isObj, str, stringFields, type JsonObject } from '../../../common/json/shape';
import { WORKSPACE_LABEL } from '../../protocol';
import type { ProviderWorkspace } from '../contract';
import { SSH_PORT, SSH_SERVER_LABEL } from './api';

export class UnexpectedReply extends Error {
  constructor(what: string) {
    super(`unexpected reply from the Docker engine: ${what}`);
    this.name = 'UnexpectedReply';
  }
}

type Obj = JsonObject;

/** The node's loopback port in one `NetworkSettings.Ports` entry's bindings, if there is one. */
function loopbackBinding(bindings: unknown): number | undefined {
  if (!Array.isArray(bindings)) return undefined;
  for (const b of bindings) {
    if (!isObj(b)) continue;
    const port = Number(str(b.HostPort));
    const ip = str(b.HostIp) ?? '';
    if (Number.isInteger(port) && port > 0 && port < 65536 && (ip === '127.0.0.1' || ip === '')) return port;
  }
  return undefined;
}

/** The loopback port bound to the container's 22/tcp, from `NetworkSettings.Ports` of an inspect. */
export function sshPortFromInspectPorts(ports: unknown): number | undefined {
  return isObj(ports) ? loopbackBinding(ports[SSH_PORT]) : undefined;
}

/** Every `<port>/tcp` of the container bound on the node's loopback: `{ "8080": 41234 }`. */
export function publishedPortsFromInspectPorts(ports: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (!isObj(ports)) return out;
  for (const [key, bindings] of Object.entries(ports)) {
    const m = /^(\d{1,5})\/tcp$/.exec(key);
    const nodePort = m ? loopbackBinding(bindings) : undefined;
    if (m && nodePort !== undefined) out[m[1]!] = nodePort;
  }
  return out;
}

/** The container's address on its (first) network: the default bridge's, or a user network's. */
export function addressFromNetworkSettings(network: Obj): string | undefined {
  const direct = str(network.IPAddress);
  if (direct) return direct;
  const networks = isObj(network.Networks) ? Object.values(network.Networks).filter(isObj) : [];
  return networks.map((n) => str(n.IPAddress)).find((a) => !!a);
}

/** The engine's zero time for "never". */
function time(v: unknown): string | undefined {
  const s = str(v);
  return s && !s.startsWith('0001-01-01') ? s : undefined;
}

function stateOf(
  status: string | undefined,
  restarting: boolean,
  error: string | undefined,
): Pick<ProviderWorkspace, 'state' | 'error'> {
  if (error) return { state: 'error', error };
  if (restarting || status === 'restarting')
    return { state: 'error', error: 'its main process keeps exiting and the engine keeps restarting it' };
  switch (status) {
    case 'running':
      return { state: 'running' };
    case 'created':
      return { state: 'created' };
    case 'exited':
    case 'paused':
    case 'removing':
      return { state: 'stopped' };
    case 'dead':
      return { state: 'error', error: 'the engine reports the container as dead' };
    default:
      return { state: 'error', error: `the engine reports an unknown state ${JSON.stringify(status ?? null)}` };
  }
}

/** `GET /containers/{id}/json`. */
export function parseContainerInspect(value: unknown): ProviderWorkspace {
  if (!isObj(value)) throw new UnexpectedReply('a container inspect that is not an object');
  const id = str(value.Id);
  const config = isObj(value.Config) ? value.Config : {};
  const state = isObj(value.State) ? value.State : undefined;
  if (!id || !state) throw new UnexpectedReply('a container inspect without Id or State');
  const labels = stringFields(config.Labels);
  const network = isObj(value.NetworkSettings) ? value.NetworkSettings : {};
  const running = state.Running === true && state.Restarting !== true;
  const mounts = Array.isArray(value.Mounts) ? value.Mounts.filter(isObj) : [];
  const bind =
    mounts.find((m) => m.Type === 'bind' && str(m.Destination) === str(config.WorkingDir)) ??
    mounts.find((m) => m.Type === 'bind');
  const out: ProviderWorkspace = {
    name: labels[WORKSPACE_LABEL] ?? '',
    providerId: id,
    ...stateOf(str(state.Status), state.Restarting === true, str(state.Error) || undefined),
    image: str(config.Image) ?? '',
    labels,
    sshServer: labels[SSH_SERVER_LABEL] === 'agent' ? 'agent' : 'image',
  };
  const port = running ? sshPortFromInspectPorts(network.Ports) : undefined;
  if (port !== undefined) out.sshPort = port;
  if (running) out.publishedPorts = publishedPortsFromInspectPorts(network.Ports);
  const address = running ? addressFromNetworkSettings(network) : undefined;
  if (address) out.address = address;
  const created = time(value.Created);
  if (created) out.createdAt = created;
  const started = running ? time(state.StartedAt) : undefined;
  if (started) out.startedAt = started;
  const source = bind ? str(bind.Source) : undefined;
  if (source) out.nodeFolder = source;
  if (Array.isArray(config.Env)) out.env = envFromList(config.Env);
  return out;
}

/** `["A=1", "B=x=y"]` → `{ A: "1", B: "x=y" }`; entries without `=` are skipped. */
function envFromList(list: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of list) {
    if (typeof e !== 'string') continue;
    const at = e.indexOf('=');
    if (at > 0) out[e.slice(0, at)] = e.slice(at + 1);
  }
  return out;
}

/** `GET /containers/json` (list entries are shaped differently from an inspect). */
export function parseContainerList(value: unknown): ProviderWorkspace[] {
  if (!Array.isArray(value)) throw new UnexpectedReply('a container list that is not an array');
  return value.filter(isObj).map((c) => {
    const id = str(c.Id);
    if (!id) throw new UnexpectedReply('a container list entry without Id');
    const labels = stringFields(c.Labels);
    const status = str(c.State);
    const out: ProviderWorkspace = {
      name: labels[WORKSPACE_LABEL] ?? '',
      providerId: id,
      ...stateOf(status, false, undefined),
      image: str(c.Image) ?? '',
      labels,
    };
    if (status === 'running' && Array.isArray(c.Ports)) {
      for (const p of c.Ports.filter(isObj)) {
        if (
          p.PrivatePort === 22 &&
          p.Type === 'tcp' &&
          typeof p.PublicPort === 'number' &&
          (p.IP === '127.0.0.1' || p.IP === undefined)
        )
          out.sshPort = p.PublicPort;
      }
    }
    if (typeof c.Created === 'number') out.createdAt = new Date(c.Created * 1000).toISOString();
    const mounts = Array.isArray(c.Mounts) ? c.Mounts.filter(isObj) : [];
    const bind = mounts.find((m) => m.Type === 'bind');
    const source = bind ? str(bind.Source) : undefined;
    if (source) out.nodeFolder = source;
    return out;
  });
}

/** `POST /containers/create` and `POST /containers/{id}/exec`: `{Id}`. */
export function parseIdReply(value: unknown, what: string): string {
  const id = isObj(value) ? str(value.Id) : undefined;
  if (!id || !/^[0-9a-f]{12,128}$/.test(id)) throw new UnexpectedReply(`${what} without a valid Id`);
  return id;
}

/** `GET /exec/{id}/json`: whether it still runs, and its exit code once done. */
export function parseExecInspect(value: unknown): { running: boolean; exitCode: number | null } {
  if (!isObj(value) || typeof value.Running !== 'boolean') throw new UnexpectedReply('an exec inspect without Running');
  return { running: value.Running, exitCode: typeof value.ExitCode === 'number' ? value.ExitCode : null };
}

export interface ImageInspect {
  id: string;
  os?: string;
  architecture?: string;
  /** Config.User: who the image's processes run as ('' or absent: root). */
  user?: string;
  labels: Record<string, string>;
  /** Config.Env as a map. */
  env: Record<string, string>;
}

/** `GET /images/{name}/json`: its id, platform, user, labels and environment. */
export function parseImageInspect(value: unknown): ImageInspect {
  const id = isObj(value) ? str(value.Id) : undefined;
  if (!id || !isObj(value)) throw new UnexpectedReply('an image inspect without Id');
  const os = str(value.Os);
  const architecture = str(value.Architecture);
  const config = isObj(value.Config) ? value.Config : {};
  const labels: Record<string, string> = {};
  if (isObj(config.Labels))
    for (const [k, v] of Object.entries(config.Labels)) if (typeof v === 'string') labels[k] = v;
  const env: Record<string, string> = {};
  for (const e of Array.isArray(config.Env) ? config.Env : []) {
    if (typeof e !== 'string') continue;
    const eq = e.indexOf('=');
    if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  const user = str(config.User);
  return {
    id,
    ...(os ? { os } : {}),
    ...(architecture ? { architecture } : {}),
    ...(user ? { user } : {}),
    labels,
    env,
  };
}

export type BuildMessage =
  | { kind: 'stream'; text: string }
  | { kind: 'error'; message: string }
  | { kind: 'aux'; id?: string }
  | { kind: 'other' };

/** One line of the JSON-lines progress stream of `POST /build` (and image import). */
export function parseBuildLine(line: string): BuildMessage | undefined {
  if (line.trim() === '') return undefined;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { kind: 'stream', text: line };
  }
  if (!isObj(v)) return { kind: 'other' };
  const error = str(v.error) ?? (isObj(v.errorDetail) ? str(v.errorDetail.message) : undefined);
  if (error) return { kind: 'error', message: error };
  if (typeof v.stream === 'string') return { kind: 'stream', text: v.stream };
  if (isObj(v.aux)) return { kind: 'aux', ...(str(v.aux.ID) ? { id: str(v.aux.ID) } : {}) };
  return { kind: 'other' };
}

/** The `X-Docker-Container-Path-Stat` header of `HEAD /containers/{id}/archive`: base64 JSON. */
export function parsePathStat(
  header: string | string[] | undefined,
): { name: string; size: number; mode: number; linkTarget: string } | undefined {
  const raw = Array.isArray(header) ? header[0] : header;
  if (!raw) return undefined;
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as unknown;
    if (!isObj(v) || typeof v.mode !== 'number') return undefined;
    return {
      name: str(v.name) ?? '',
      size: typeof v.size === 'number' ? v.size : 0,
      mode: v.mode,
      linkTarget: str(v.linkTarget) ?? '',
    };
  } catch {
    return undefined;
  }
}

/**
 * The node port in Docker's refusal to start a container whose published port is taken
 * ("…listen tcp4 127.0.0.1:7070: bind: address already in use", "Bind for 127.0.0.1:7070
 * failed: port is already allocated"), if that is what it is.
 */
export function takenNodePort(message: string): number | undefined {
  const m =
    /127\.0\.0\.1:(\d+)(?::|\s)[^]*?(address already in use|port is already allocated)/.exec(message) ??
    /(?:address already in use|port is already allocated)[^]*?127\.0\.0\.1:(\d+)/.exec(message);
  return m ? Number(m[1]) : undefined;
}
