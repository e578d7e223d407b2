/**
 * LXD API replies → what the agent uses. Pure functions, tested against replies recorded from a
 * real LXD 5.0 (test/fixtures/agent/lxd-*.json). Replies are untrusted input: every field is
 * checked, and a reply that is not what it should be is an error, never a crash.
 */
import { isObj, str, stringFields, type JsonObject } from '../../../common/json/shape';
import { WORKSPACE_LABEL } from '../../protocol';
import type { ProviderWorkspace } from '../contract';
import {
  IMAGE_LABEL,
  labelFromKey,
  PROJECT_DEVICE,
  RELAY_KEY,
  LEGACY_PORT_DEVICE_PREFIX,
  LEGACY_SSH_DEVICE,
  PORTS_DEVICE,
  STOP_GRACE_KEY,
  WORKSPACE_KEY,
  type RelayPlan,
} from './api';

export class UnexpectedLxdReply extends Error {
  constructor(what: string) {
    super(`unexpected reply from LXD: ${what}`);
    this.name = 'UnexpectedReply';
  }
}

type Obj = JsonObject;

/** A synchronous reply's `metadata` (`{type: "sync", status_code: 200, metadata: …}`). */
export function syncMetadata(reply: unknown, what: string): unknown {
  if (!isObj(reply) || reply.type !== 'sync') throw new UnexpectedLxdReply(`${what} is not a synchronous reply`);
  return reply.metadata;
}

/** The operation an asynchronous reply started: its path (`/1.0/operations/<uuid>`) and metadata. */
export function asyncOperation(reply: unknown, what: string): { path: string; metadata: Obj } {
  if (!isObj(reply) || reply.type !== 'async' || typeof reply.operation !== 'string')
    throw new UnexpectedLxdReply(`${what} did not start an operation`);
  return { path: reply.operation, metadata: isObj(reply.metadata) ? reply.metadata : {} };
}

export interface OperationOutcome {
  /** Still running when the wait ended. */
  running: boolean;
  /** The failure in LXD's words (`err`), when it failed or was cancelled. */
  error?: string;
  /** The operation's own metadata (an exec's `return`, a download's progress). */
  metadata: Obj;
}

/** `GET /1.0/operations/<id>/wait`: status_code 200 success, 400/401 failure/cancelled, 103 running. */
export function parseOperation(reply: unknown): OperationOutcome {
  const op = syncMetadata(reply, 'an operation wait');
  if (!isObj(op)) throw new UnexpectedLxdReply('an operation without fields');
  const code = typeof op.status_code === 'number' ? op.status_code : 0;
  const metadata = isObj(op.metadata) ? op.metadata : {};
  if (code === 200) return { running: false, metadata };
  if (code >= 400) return { running: false, error: str(op.err) || str(op.status) || `status ${code}`, metadata };
  return { running: true, metadata };
}

/** An exec operation's websocket secrets: `metadata.fds` with `0`, `1`, `2` and `control`. */
export function parseExecFds(metadata: Obj): { stdin: string; stdout: string; stderr: string; control: string } {
  const fds =
    isObj(metadata.metadata) && isObj(metadata.metadata.fds)
      ? metadata.metadata.fds
      : isObj(metadata.fds)
        ? metadata.fds
        : undefined;
  const s = stringFields(fds);
  if (!s['0'] || !s['1'] || !s['2'] || !s.control) throw new UnexpectedLxdReply('an exec without its four websockets');
  return { stdin: s['0'], stdout: s['1'], stderr: s['2'], control: s.control };
}

/** A finished exec's exit code (`metadata.return`). */
export function execReturn(metadata: Obj): number {
  const r = metadata.return;
  if (typeof r !== 'number' || !Number.isInteger(r))
    throw new UnexpectedLxdReply('an exec that ended without an exit code');
  return r;
}

/** `listen=tcp:127.0.0.1:PORT` of a proxy device. */
/** The ports of `tcp:127.0.0.1:P[,P…]` (no ranges: we never write them); undefined for anything else. */
function loopbackPorts(v: unknown): number[] | undefined {
  const m = /^tcp:127\.0\.0\.1:(\d{1,5}(?:,\d{1,5})*)$/.exec(str(v) ?? '');
  const ports = m ? m[1]!.split(',').map(Number) : [];
  return ports.length && ports.every((p) => p > 0 && p < 65536) ? ports : undefined;
}

/**
 * A proxy device's ports as `{guest: node}`: the n-th listen port carries the n-th connect port.
 * `guest` names the guest port of a one-port device made before PORTS_DEVICE that may not say it.
 */
export function proxyPorts(device: unknown, guest?: number): Record<string, number> {
  if (!isObj(device) || device.type !== 'proxy') return {};
  const listen = loopbackPorts(device.listen);
  const connect = loopbackPorts(device.connect) ?? (guest !== undefined ? [guest] : undefined);
  if (!listen || !connect || listen.length !== connect.length) return {};
  return Object.fromEntries(connect.map((g, i) => [String(g), listen[i]!]));
}

/** LXD's zero time for "never". */
function time(v: unknown): string | undefined {
  const s = str(v);
  return s && !s.startsWith('0001-01-01') && !s.startsWith('1970-01-01') ? s : undefined;
}

function stateOf(status: string | undefined, everStarted: boolean): Pick<ProviderWorkspace, 'state' | 'error'> {
  switch (status) {
    case 'Running':
      return { state: 'running' };
    case 'Stopped':
      return { state: everStarted ? 'stopped' : 'created' };
    case 'Frozen':
      return { state: 'error', error: 'the instance is frozen (paused) in LXD; `lxc start` on the node resumes it' };
    case 'Error':
      return { state: 'error', error: 'LXD reports the instance in an error state' };
    default:
      return { state: 'error', error: `LXD reports an unknown state ${JSON.stringify(status ?? null)}` };
  }
}

/** RELAY_KEY's value, or undefined when it is absent or not what the agent wrote. */
export function parseRelayPlan(text: string | undefined): RelayPlan | undefined {
  if (text === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObj(v) || !isObj(v.ports) || !Array.isArray(v.sshd) || !v.sshd.every((a) => typeof a === 'string'))
    return undefined;
  const ports: Record<string, number> = {};
  for (const [guest, node] of Object.entries(v.ports))
    if (/^\d{1,5}$/.test(guest) && typeof node === 'number' && Number.isInteger(node) && node > 0 && node < 65536)
      ports[guest] = node;
  return { ports, sshd: v.sshd as string[] };
}

/** An instance as a workspace, plus where it runs and, on a cluster, its relay plan. */
export type LxdInstance = ProviderWorkspace & {
  relay?: RelayPlan;
  /** Seconds a clean stop may take before it is forced, when its config says (STOP_GRACE_KEY). */
  stopGraceS?: number;
};

/** An instance (`GET /1.0/instances/<name>` metadata, or one entry of a recursion=1 list) as a workspace. */
export function parseInstance(v: unknown): LxdInstance {
  if (!isObj(v) || typeof v.name !== 'string') throw new UnexpectedLxdReply('an instance without a name');
  const config = stringFields(v.config);
  const devices = isObj(v.devices) ? v.devices : {};
  const labels: Record<string, string> = {};
  for (const [k, val] of Object.entries(config)) {
    const label = k === RELAY_KEY ? undefined : labelFromKey(k);
    if (label) labels[label] = val;
  }
  const running = v.status === 'Running';
  const relay = parseRelayPlan(config[RELAY_KEY]);
  const publishedPorts: Record<string, number> = {};
  for (const [name, dev] of Object.entries(devices)) {
    if (name === PORTS_DEVICE || name.startsWith(LEGACY_PORT_DEVICE_PREFIX))
      Object.assign(publishedPorts, proxyPorts(dev));
    else if (name === LEGACY_SSH_DEVICE) Object.assign(publishedPorts, proxyPorts(dev, 22));
  }
  // Not wired as proxy devices (a cluster instance on another member): the agent relays them.
  if (Object.keys(publishedPorts).length === 0 && relay) Object.assign(publishedPorts, relay.ports);
  const sshPort = publishedPorts['22'];
  const project = devices[PROJECT_DEVICE];
  const image = config['volatile.base_image'] ?? '';
  const ws: LxdInstance = {
    name: config[WORKSPACE_KEY] ?? '',
    providerId: v.name,
    ...stateOf(str(v.status), time(v.last_used_at) !== undefined),
    image: labels[IMAGE_LABEL] ?? image,
    labels,
  };
  if (running && sshPort !== undefined) ws.sshPort = sshPort;
  if (running) ws.publishedPorts = publishedPorts;
  const created = time(v.created_at);
  if (created) ws.createdAt = created;
  const used = time(v.last_used_at);
  if (running && used) ws.startedAt = used;
  if (isObj(project) && typeof project.source === 'string') ws.nodeFolder = project.source;
  const location = str(v.location);
  if (location && location !== 'none') ws.member = location;
  if (relay) ws.relay = relay;
  const grace = config[STOP_GRACE_KEY];
  if (grace !== undefined && /^\d{1,6}$/.test(grace)) ws.stopGraceS = Number(grace);
  return ws;
}

/** `GET /1.0/instances?recursion=1`: only instances carrying the workspace key. */
export function parseInstanceList(reply: unknown): ProviderWorkspace[] {
  const list = syncMetadata(reply, 'the instance list');
  if (!Array.isArray(list)) throw new UnexpectedLxdReply('the instance list is not a list');
  return list
    .filter((i) => isObj(i) && isObj(i.config) && typeof i.config[WORKSPACE_KEY] === 'string')
    .map((i) => parseInstance(i))
    .filter((w) => w.labels[WORKSPACE_LABEL] !== undefined);
}

export interface LxdMember {
  name: string;
  /** LXD's words: Online, Offline, Evacuated, Blocked. */
  status: string;
  message: string;
  roles: string[];
}

/** `GET /1.0/cluster/members?recursion=1`. */
export function parseClusterMembers(reply: unknown): LxdMember[] {
  const list = syncMetadata(reply, 'the cluster member list');
  if (!Array.isArray(list)) throw new UnexpectedLxdReply('the cluster member list is not a list');
  return list.flatMap((m) =>
    isObj(m) && typeof m.server_name === 'string'
      ? [
          {
            name: m.server_name,
            status: str(m.status) ?? 'Unknown',
            message: str(m.message) ?? '',
            roles: Array.isArray(m.roles) ? m.roles.filter((r): r is string => typeof r === 'string') : [],
          },
        ]
      : [],
  );
}

/** `GET /1.0/images/aliases/<name>` → the fingerprint it names. */
export function parseAliasTarget(reply: unknown): string {
  const m = syncMetadata(reply, 'an image alias');
  const target = isObj(m) ? str(m.target) : undefined;
  if (!target) throw new UnexpectedLxdReply('an image alias without a target');
  return target;
}

/** What `GET /1.0` says of the server that matters to workspaces. */
export interface LxdServerFacts {
  version: string;
  clustered: boolean;
  /** shiftfs is there: a disk device can have `shift=true` (see idmap.ts). */
  shiftfs: boolean;
  /** `HEAD` on an instance's files says a file's type without sending it (API extension instance_file_head). */
  fileHead: boolean;
  serverName?: string;
}

export function parseServerFacts(reply: unknown): LxdServerFacts {
  const m = syncMetadata(reply, 'the server description');
  const env = isObj(m) && isObj(m.environment) ? m.environment : undefined;
  if (!env || typeof env.server_version !== 'string')
    throw new UnexpectedLxdReply('a server description without a version');
  const features = stringFields(env.kernel_features);
  const facts: LxdServerFacts = {
    version: env.server_version,
    clustered: env.server_clustered === true,
    shiftfs: features.shiftfs === 'true',
    fileHead: isObj(m) && Array.isArray(m.api_extensions) && m.api_extensions.includes('instance_file_head'),
  };
  const serverName = str(env.server_name);
  if (serverName) facts.serverName = serverName;
  return facts;
}
