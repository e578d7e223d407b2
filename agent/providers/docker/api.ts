/**
 * The Engine API calls the Docker provider makes, as data (pure functions, no I/O). Paths are
 * unversioned, so the engine speaks its own current version: every field used here means the
 * same from API 1.41 (Docker 20.10, Debian 12) to today's engines.
 */
import { WORKSPACE_LABEL, type DockerWorkspaceSpec } from '../../protocol';
import type { EngineCall } from './engine';
import { runHostConfig } from './runOptions';

/** Image references keep their `/` and `:` in the path; everything else is escaped. */
export function encodeRef(ref: string): string {
  return ref.split('/').map(encodeURIComponent).join('/').replace(/%3A/gi, ':').replace(/%40/gi, '@');
}

const id = (s: string): string => encodeURIComponent(s);

export const dockerCalls = {
  ping: (): EngineCall => ({ method: 'GET', path: '/_ping', accept: [200], what: 'answer a ping' }),
  imageInspect: (ref: string): EngineCall => ({
    method: 'GET',
    path: `/images/${encodeRef(ref)}/json`,
    accept: [200, 404],
    what: `look up the image ${ref}`,
  }),
  build: (
    tag: string,
    b: { dockerfile?: string; args?: Record<string, string>; target?: string; labels?: Record<string, string> },
  ): EngineCall => ({
    method: 'POST',
    path: '/build',
    query: {
      t: tag,
      dockerfile: b.dockerfile,
      rm: 1,
      forcerm: 1,
      buildargs: b.args && Object.keys(b.args).length ? JSON.stringify(b.args) : undefined,
      target: b.target,
      labels: b.labels ? JSON.stringify(b.labels) : undefined,
    },
    accept: [200],
    what: `build the image ${tag}`,
  }),
  containerCreate: (name: string, body: unknown): EngineCall => ({
    method: 'POST',
    path: '/containers/create',
    query: { name },
    json: body,
    accept: [201],
    what: `create the container ${name}`,
  }),
  containerInspect: (ref: string): EngineCall => ({
    method: 'GET',
    path: `/containers/${id(ref)}/json`,
    accept: [200, 404],
    what: `inspect the container ${ref}`,
  }),
  /** Every container (running or not) with our label, and nothing else. */
  containerList: (): EngineCall => ({
    method: 'GET',
    path: '/containers/json',
    query: { all: 1, filters: JSON.stringify({ label: [WORKSPACE_LABEL] }) },
    accept: [200],
    what: 'list the workspace containers',
  }),
  /** 304: already running. */
  containerStart: (ref: string): EngineCall => ({
    method: 'POST',
    path: `/containers/${id(ref)}/start`,
    accept: [204, 304, 404],
    what: `start the container ${ref}`,
  }),
  /** 304: already stopped. `t`: seconds before SIGKILL. */
  containerStop: (ref: string, t: number): EngineCall => ({
    method: 'POST',
    path: `/containers/${id(ref)}/stop`,
    query: { t },
    accept: [204, 304, 404],
    what: `stop the container ${ref}`,
  }),
  containerRemove: (ref: string): EngineCall => ({
    method: 'DELETE',
    path: `/containers/${id(ref)}`,
    query: { force: 1, v: 1 },
    accept: [204, 404],
    what: `remove the container ${ref}`,
  }),
  /** HEAD: the stat of a path inside the container, in a header; 404 when it does not exist. */
  archiveStat: (ref: string, path: string): EngineCall => ({
    method: 'HEAD',
    path: `/containers/${id(ref)}/archive`,
    query: { path },
    accept: [200, 404],
    what: `look for ${path} in the container ${ref}`,
  }),
  /** GET: a tar of one path inside the container; 404 when it does not exist. */
  archiveGet: (ref: string, path: string): EngineCall => ({
    method: 'GET',
    path: `/containers/${id(ref)}/archive`,
    query: { path },
    accept: [200, 404],
    what: `read ${path} in the container ${ref}`,
  }),
  archivePut: (ref: string, path: string): EngineCall => ({
    method: 'PUT',
    path: `/containers/${id(ref)}/archive`,
    query: { path },
    accept: [200, 404],
    what: `copy files into the container ${ref}`,
  }),
  execCreate: (ref: string, body: unknown): EngineCall => ({
    method: 'POST',
    path: `/containers/${id(ref)}/exec`,
    json: body,
    accept: [201, 404, 409],
    what: `run a command in the container ${ref}`,
  }),
  execStart: (execId: string, tty: boolean): EngineCall => ({
    method: 'POST',
    path: `/exec/${id(execId)}/start`,
    json: { Detach: false, Tty: tty },
    accept: [101, 200],
    what: 'start a command in the container',
  }),
  execInspect: (execId: string): EngineCall => ({
    method: 'GET',
    path: `/exec/${id(execId)}/json`,
    accept: [200],
    what: 'read the exit code of a command',
  }),
  logs: (ref: string, tail: number): EngineCall => ({
    method: 'GET',
    path: `/containers/${id(ref)}/logs`,
    query: { stdout: 1, stderr: 1, tail },
    accept: [200, 404],
    what: `read the output of the container ${ref}`,
  }),
};

/** What ends, pauses or (re)starts a container: what makes a remembered inspect of it stale. */
export const CONTAINER_CHANGE_EVENTS = [
  'start',
  'restart',
  'stop',
  'die',
  'kill',
  'pause',
  'unpause',
  'destroy',
] as const;

/** `GET /events`: an endless stream of one JSON object a line, from now on. */
export const containerEventsCall = (): EngineCall => ({
  method: 'GET',
  path: '/events',
  query: { filters: JSON.stringify({ type: ['container'], event: CONTAINER_CHANGE_EVENTS, label: [WORKSPACE_LABEL] }) },
  accept: [200],
  what: "follow the workspace containers' events",
});

export const SSH_PORT = '22/tcp';
/** On a container that runs the SSH server the agent brought (the image has none). */
export const SSH_SERVER_LABEL = 'dev.vendetta.ssh-server';

export interface ContainerCreateInput {
  spec: DockerWorkspaceSpec;
  nodeFolder: string;
  labels: Record<string, string>;
  command: string[];
  /** The SSH server the agent brought: its node folder, mounted read-only. */
  brought?: { nodeDir: string; mountPath: string };
  /** The node port of the SSH server, on the node's loopback (the agent chose it). */
  sshNodePort: number;
  /** Service ports, published on the node's loopback at fixed node ports. */
  ports?: Array<{ guestPort: number; nodePort: number }>;
}

/**
 * The container: the image's files, our SSH server as its only process (sshd runs as root and
 * drops to the login user per session, so no `User`), the project bind-mounted, port 22 published
 * on the node's loopback only, limits, labels, and restarted with the engine unless someone
 * stopped it. SSH and service ports get the node ports the agent chose (Docker fixes bindings at
 * create), so they stay the same across stops, starts and engine restarts.
 */
export function containerCreateBody(input: ContainerCreateInput): Record<string, unknown> {
  const { spec, nodeFolder, labels, command } = input;
  const d = spec.docker;
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {
    [SSH_PORT]: [{ HostIp: '127.0.0.1', HostPort: String(input.sshNodePort) }],
  };
  const exposed: Record<string, object> = { [SSH_PORT]: {} };
  for (const p of input.ports ?? []) {
    bindings[`${p.guestPort}/tcp`] = [{ HostIp: '127.0.0.1', HostPort: String(p.nodePort) }];
    exposed[`${p.guestPort}/tcp`] = {};
  }
  const run = runHostConfig(d.run);
  const hostConfig: Record<string, unknown> = {
    ...run.fields,
    Mounts: [
      { Type: 'bind', Source: nodeFolder, Target: spec.workspaceFolder },
      ...(input.brought
        ? [{ Type: 'bind', Source: input.brought.nodeDir, Target: input.brought.mountPath, ReadOnly: true }]
        : []),
      ...run.mounts,
    ],
    PortBindings: bindings,
    RestartPolicy: { Name: 'unless-stopped' },
  };
  if (d.cpus !== undefined) hostConfig.NanoCpus = Math.round(d.cpus * 1e9);
  if (d.memoryBytes !== undefined) hostConfig.Memory = d.memoryBytes;
  if (d.pids !== undefined) hostConfig.PidsLimit = d.pids;
  return {
    Image: d.image,
    Hostname: spec.name,
    Entrypoint: command.slice(0, 1),
    Cmd: command.slice(1),
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    WorkingDir: spec.workspaceFolder,
    // The project's own labels first: ours always win.
    Labels: {
      ...d.run?.labels,
      ...labels,
      [WORKSPACE_LABEL]: spec.name,
      ...(input.brought ? { [SSH_SERVER_LABEL]: 'agent' } : {}),
    },
    ExposedPorts: exposed,
    HostConfig: hostConfig,
  };
}

export interface ExecCreateInput {
  argv: string[];
  user?: string;
  env?: Record<string, string>;
  workingDir?: string;
  tty?: boolean;
  stdin?: boolean;
}

export function execCreateBody(input: ExecCreateInput): Record<string, unknown> {
  const body: Record<string, unknown> = {
    Cmd: input.argv,
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: input.stdin === true,
    Tty: input.tty === true,
    // uid 0 rather than "root": an image without /etc/passwd still runs commands as root.
    User: input.user === undefined || input.user === 'root' ? '0' : input.user,
  };
  if (input.env) body.Env = Object.entries(input.env).map(([k, v]) => `${k}=${v}`);
  if (input.workingDir) body.WorkingDir = input.workingDir;
  return body;
}
