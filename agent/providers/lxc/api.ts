/**
 * The LXD REST API calls the LXC provider makes, as data (pure functions, no I/O). The same
 * calls are Incus's (its API is LXD's, under the same /1.0 paths). Instances are found by the
 * `user.vendetta.workspace` config key; what a workspace needs of the node (its SSH port, each
 * service port, the project folder) is an instance device whose name starts with `vendetta-`.
 */
import { createHash } from 'node:crypto';
import { WORKSPACE_LABEL } from '../../protocol';
import type { HttpCall } from '../unixHttp';

const seg = (s: string): string => encodeURIComponent(s);

/** Instance config keys that carry our labels: `dev.vendetta.x` ↔ `user.vendetta.x`. */
export function labelKey(label: string): string {
  return `user.${label.replace(/^dev\.vendetta\./, 'vendetta.')}`;
}

export function labelFromKey(key: string): string | undefined {
  if (!key.startsWith('user.')) return undefined;
  const rest = key.slice('user.'.length);
  return rest.startsWith('vendetta.') ? `dev.${rest}` : rest;
}

export const WORKSPACE_KEY = labelKey(WORKSPACE_LABEL);
/** The image as the config named it (an alias, a fingerprint, `remote:alias`). */
export const IMAGE_LABEL = 'dev.vendetta.image';

/**
 * The instance's name: `vendetta-<workspace>` when that is a valid host name (LXD's rule: at most
 * 63 characters, no trailing dash), else `vendetta-<hash>` (a long or dash-ended workspace name).
 */
export function instanceName(workspace: string): string {
  const plain = `vendetta-${workspace}`;
  if (plain.length <= 63 && !plain.endsWith('-')) return plain;
  return `vendetta-${createHash('sha256').update(workspace).digest('hex').slice(0, 16)}`;
}

/** SSH and every service port in one proxy device: LXD starts each proxy device for ≥1 s. */
export const PORTS_DEVICE = 'vendetta-ports';
/** One device per port, as workspaces made before PORTS_DEVICE have them (read, never written). */
export const LEGACY_SSH_DEVICE = 'vendetta-ssh';
export const LEGACY_PORT_DEVICE_PREFIX = 'vendetta-port-';
export const PROJECT_DEVICE = 'vendetta-project';

/**
 * On a cluster, where an instance's node ports live until LXD has placed it: `{"ports": {guest:
 * node}, "sshd": argv}`. On the agent's own member they become proxy devices; on another member
 * the agent relays them through LXD (relay.ts), since a proxy device listens on its member only.
 */
export const RELAY_KEY = 'user.vendetta.relay';

export interface RelayPlan {
  ports: Record<string, number>;
  /** The workspace SSH server in inetd mode (`sshd -i -f config`): one per relayed connection. */
  sshd: string[];
}

/**
 * Which instance config keys a workspace config may set (`lxc.config`). `boot.host_shutdown_timeout`
 * is LXD's own grace before it forces an instance down at host shutdown; `workspace stop` gives the same.
 */
export const ALLOWED_CONFIG_KEYS = [
  'security.nesting',
  'limits.cpu',
  'limits.memory',
  'boot.host_shutdown_timeout',
] as const;
export const STOP_GRACE_KEY = 'boot.host_shutdown_timeout';

export const lxdCalls = {
  server: (): HttpCall => ({ method: 'GET', path: '/1.0', accept: [200], what: 'describe itself' }),
  alias: (name: string): HttpCall => ({
    method: 'GET',
    path: `/1.0/images/aliases/${seg(name)}`,
    accept: [200, 404],
    what: `look up the image alias ${name}`,
  }),
  image: (fingerprint: string): HttpCall => ({
    method: 'GET',
    path: `/1.0/images/${seg(fingerprint)}`,
    accept: [200, 404],
    what: `look up the image ${fingerprint}`,
  }),
  /** 202: an operation; a `target` member places it in a cluster (`@group` for a group). */
  instanceCreate: (body: unknown, target?: string): HttpCall => ({
    method: 'POST',
    path: '/1.0/instances',
    query: { target },
    json: body,
    accept: [202],
    what: 'create the instance',
  }),
  instance: (name: string): HttpCall => ({
    method: 'GET',
    path: `/1.0/instances/${seg(name)}`,
    accept: [200, 404],
    what: `look up the instance ${name}`,
  }),
  /** One instance as the list shows it: answers at once even when its member is offline. */
  instanceListed: (name: string): HttpCall => ({
    method: 'GET',
    path: '/1.0/instances',
    query: { recursion: 1, filter: `name eq ${name}` },
    accept: [200],
    what: `look up the instance ${name}`,
  }),
  /** Adds devices (LXD merges a PATCH's devices into the instance's). */
  instancePatch: (name: string, body: unknown): HttpCall => ({
    method: 'PATCH',
    path: `/1.0/instances/${seg(name)}`,
    json: body,
    accept: [200, 404],
    what: `change the instance ${name}`,
  }),
  clusterMembers: (): HttpCall => ({
    method: 'GET',
    path: '/1.0/cluster/members',
    query: { recursion: 1 },
    accept: [200],
    what: 'list the cluster members',
  }),
  /** Every instance with its config (recursion=1), ours filtered by the caller. */
  instances: (): HttpCall => ({
    method: 'GET',
    path: '/1.0/instances',
    query: { recursion: 1 },
    accept: [200],
    what: 'list the instances',
  }),
  /** 202: an operation. */
  instanceState: (name: string, body: { action: 'start' | 'stop'; timeout?: number; force?: boolean }): HttpCall => ({
    method: 'PUT',
    path: `/1.0/instances/${seg(name)}/state`,
    json: body,
    accept: [202, 404],
    what: `${body.force ? 'force ' : ''}${body.action} the instance ${name}`,
  }),
  instanceDelete: (name: string): HttpCall => ({
    method: 'DELETE',
    path: `/1.0/instances/${seg(name)}`,
    accept: [202, 404],
    what: `delete the instance ${name}`,
  }),
  /** Puts one file, folder or link into the instance (running or not); headers in fileHeaders(). */
  filePut: (name: string, path: string): HttpCall => ({
    method: 'POST',
    path: `/1.0/instances/${seg(name)}/files`,
    query: { path },
    accept: [200, 404],
    what: `write ${path} in the instance ${name}`,
  }),
  /** Removes one file of the instance (a leftover of an exec that never started). */
  fileDelete: (name: string, path: string): HttpCall => ({
    method: 'DELETE',
    path: `/1.0/instances/${seg(name)}/files`,
    query: { path },
    accept: [200, 404],
    what: `remove ${path} in the instance ${name}`,
  }),
  /** 202: an operation whose metadata names the exec's websockets. */
  exec: (name: string, body: unknown): HttpCall => ({
    method: 'POST',
    path: `/1.0/instances/${seg(name)}/exec`,
    json: body,
    accept: [202, 404],
    what: `run a command in the instance ${name}`,
  }),
  /** Blocks until the operation ends or `timeoutS` passes (then it answers with the operation still running). */
  operationWait: (path: string, timeoutS: number): HttpCall => ({
    method: 'GET',
    path: `${operationPath(path)}/wait`,
    query: { timeout: timeoutS },
    accept: [200, 404],
    what: 'wait for an operation',
  }),
  operationCancel: (path: string): HttpCall => ({
    method: 'DELETE',
    path: operationPath(path),
    accept: [200, 202, 400, 403, 404],
    what: 'cancel an operation',
  }),
};

/** An operation's path as LXD names it (`/1.0/operations/<uuid>`), checked so a reply cannot send us elsewhere. */
export function operationPath(path: string): string {
  const m = /^\/1\.0\/operations\/([0-9a-f-]{36})(?:\?.*)?$/.exec(path);
  if (!m) throw new Error(`not an LXD operation path: ${JSON.stringify(path).slice(0, 100)}`);
  return `/1.0/operations/${m[1]}`;
}

/** The websocket URL path of one of an exec's streams. */
export const execWebsocketPath = (operation: string, secret: string): string =>
  `${operationPath(operation)}/websocket?secret=${encodeURIComponent(secret)}`;

export interface FileHeadersInput {
  type: 'file' | 'directory' | 'symlink';
  mode: number;
  uid?: number;
  gid?: number;
}

/** The X-LXD-* headers of a file push: owner and mode as the instance sees them. */
export function fileHeaders(f: FileHeadersInput): Record<string, string> {
  return {
    'X-LXD-type': f.type,
    'X-LXD-mode': `0${(f.mode & 0o7777).toString(8)}`,
    'X-LXD-uid': String(f.uid ?? 0),
    'X-LXD-gid': String(f.gid ?? 0),
    'X-LXD-write': 'overwrite',
  };
}

/** How the project folder keeps its owners on both sides (see idmap.ts). */
export type FolderMapping =
  | { kind: 'shift' }
  | { kind: 'mapped-owner' }
  | { kind: 'raw.idmap'; uid: number; gid: number };

export interface LxcSpecPart {
  image: string;
  profiles?: string[];
  config?: Record<string, string>;
  cpus?: number;
  memoryBytes?: number;
}

export interface InstanceCreateInput {
  workspace: string;
  lxc: LxcSpecPart;
  /** `{ type: 'image', alias | fingerprint }` as the image lookup resolved it. */
  source: Record<string, unknown>;
  nodeFolder: string;
  workspaceFolder: string;
  env: Record<string, string>;
  labels: Record<string, string>;
  sshNodePort: number;
  ports: Array<{ guestPort: number; nodePort: number }>;
  mapping: FolderMapping;
  /** A cluster: the ports go into RELAY_KEY, wired once LXD has placed the instance (proxyDevices). */
  relay?: { sshd: string[] };
}

/**
 * The proxy device of a port map (`{guest: node}`): listeners on the node's loopback that LXD
 * connects to the instance's own loopback, the n-th node port to the n-th guest port. One device
 * for all of them, because LXD starts proxy devices one after another at every instance start and
 * each takes at least a second (it looks for forkproxy's "Started" line, then sleeps 1 s).
 */
export function proxyDevices(ports: Record<string, number>): Record<string, Record<string, string>> {
  const pairs = Object.entries(ports).sort(([a], [b]) => Number(a) - Number(b));
  if (pairs.length === 0) return {};
  const list = (i: 0 | 1) => pairs.map((p) => p[i]).join(',');
  return {
    [PORTS_DEVICE]: {
      type: 'proxy',
      listen: `tcp:127.0.0.1:${list(1)}`,
      connect: `tcp:127.0.0.1:${list(0)}`,
      bind: 'host',
    },
  };
}

/**
 * The instance: unprivileged (LXD's default; `security.privileged` is not on the allow-list),
 * labelled, limits from `cpus`/`memory` then `lxc.config`, the project folder as a disk device,
 * SSH and the service ports as one proxy device on the node's 127.0.0.1.
 */
export function instanceCreateBody(input: InstanceCreateInput): Record<string, unknown> {
  const { lxc } = input;
  const config: Record<string, string> = {};
  if (lxc.cpus !== undefined) config['limits.cpu'] = String(Math.max(1, Math.ceil(lxc.cpus)));
  if (lxc.memoryBytes !== undefined) config['limits.memory'] = String(lxc.memoryBytes);
  for (const [k, v] of Object.entries(lxc.config ?? {})) {
    if (!(ALLOWED_CONFIG_KEYS as readonly string[]).includes(k))
      throw new Error(`instanceCreateBody: lxc.config key ${k} is not allowed`);
    config[k] = v;
  }
  for (const [k, v] of Object.entries(input.env)) config[`environment.${k}`] = v;
  for (const [k, v] of Object.entries(input.labels)) config[labelKey(k)] = v;
  config[labelKey(IMAGE_LABEL)] = lxc.image;
  config[WORKSPACE_KEY] = input.workspace;
  const disk: Record<string, string> = { type: 'disk', source: input.nodeFolder, path: input.workspaceFolder };
  if (input.mapping.kind === 'shift') disk.shift = 'true';
  else if (input.mapping.kind === 'raw.idmap')
    config['raw.idmap'] = `uid ${input.mapping.uid} 0\ngid ${input.mapping.gid} 0`;
  const ports: Record<string, number> = { '22': input.sshNodePort };
  for (const p of input.ports) ports[String(p.guestPort)] = p.nodePort;
  const devices: Record<string, Record<string, string>> = { [PROJECT_DEVICE]: disk };
  if (input.relay) config[RELAY_KEY] = JSON.stringify({ ports, sshd: input.relay.sshd } satisfies RelayPlan);
  else Object.assign(devices, proxyDevices(ports));
  return {
    name: instanceName(input.workspace),
    type: 'container',
    source: input.source,
    config,
    devices,
    ...(lxc.profiles ? { profiles: lxc.profiles } : {}),
  };
}

export interface ExecBodyInput {
  argv: string[];
  uid?: number;
  gid?: number;
  env?: Record<string, string>;
  cwd?: string;
  tty?: boolean;
}

/** An exec whose stdin, stdout and stderr are websockets (no record-output), so output streams. */
export function execBody(input: ExecBodyInput): Record<string, unknown> {
  return {
    command: input.argv,
    environment: input.env ?? {},
    'wait-for-websocket': true,
    interactive: input.tty === true,
    'record-output': false,
    ...(input.uid !== undefined ? { user: input.uid } : {}),
    ...(input.gid !== undefined ? { group: input.gid } : {}),
    ...(input.cwd ? { cwd: input.cwd } : {}),
  };
}
