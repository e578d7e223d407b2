/**
 * The coordinator ⇄ agent contract. JSON-RPC 2.0 over the agent daemon's Unix socket
 * (bridged through `vendetta-agent attach` on an SSH exec channel, or a child process's
 * stdio for the `local` transport). Imports nothing but vscode-jsonrpc types.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { AgentErrorData } from './errorData';

export * from './workspaces';
export * from './services';
export * from './ports';
export * from './sync';
export * from './errorData';
export * from './errorCodes';
export * from './providerNames';
export * from './secrets';

/** Bumped on any incompatible change; exchanged in `initialize`. */
export const AGENT_PROTOCOL_VERSION = 2;

/** Node and workspace names, everywhere: DESIGN.md "Names and untrusted input". */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Where the agent lives on a node: `$VENDETTA_AGENT_HOME`, else `~/<DEFAULT_AGENT_HOME_DIR>`. */
export const AGENT_HOME_ENV = 'VENDETTA_AGENT_HOME';
/** Set by the coordinator's setup script when it started a daemon beside the `attach` it runs. */
export const AGENT_DAEMON_STARTING_ENV = 'VENDETTA_AGENT_DAEMON_STARTING';
/** The fd a starting daemon writes "ready" to (and closes) once it listens, for whoever started it. */
export const AGENT_READY_FD_ENV = 'VENDETTA_AGENT_READY_FD';
export const DEFAULT_AGENT_HOME_DIR = '.vendetta-agent';
/** The daemon's socket, inside the agent home. */
export const AGENT_SOCKET_NAME = 'agent.sock';
/** The daemon's second socket, for code-sync streams (SYNC_STREAM in workspaces.ts), beside the first. */
export const AGENT_SYNC_SOCKET_NAME = 'sync.sock';

/** What `vendetta-agent version` prints (one JSON line on stdout). */
export interface AgentVersionOutput {
  version: string;
  buildId: string;
  protocolVersion: number;
}

export interface InitializeParams {
  protocolVersion: number;
  clientName: string;
  clientVersion: string;
}
export interface InitializeResult {
  protocolVersion: number;
  agentVersion: string;
  /** sha256 prefix of the running agent bundle: a coordinator with a different build upgrades it. */
  buildId: string;
  /** Daemon process id and start time, so a client can tell a restarted daemon. */
  pid: number;
  startedAt: string;
  /**
   * The daemon's socket on its node: next time a coordinator may open an SSH streamlocal
   * channel straight to it, without running `attach`.
   */
  socket?: string;
  /**
   * The daemon's socket for code-sync streams (SYNC_STREAM): a sync through it starts no process
   * on the node. Absent: an agent without it; the sync runs `sync-receive`.
   */
  syncSocket?: string;
  /** The Node.js binary and the agent.js the daemon runs: agent commands run with the same pair. */
  execPath?: string;
  script?: string;
}

export interface ProviderStatus {
  available: boolean;
  version?: string;
  /** Why it is unavailable, in words a person understands. */
  error?: string;
  /** What to do about `error`. */
  hint?: string;
}
export interface QemuStatus extends ProviderStatus {
  /** /dev/kvm exists and is usable by the agent's user. */
  kvm: boolean;
  /** `qemu-system-<arch>` that was probed. */
  binary?: string;
  /** Why KVM is not usable (TCG still works, slowly). */
  kvmError?: string;
}
export interface DockerStatus extends ProviderStatus {
  apiVersion?: string;
  /** The Engine API socket that was probed. */
  socket?: string;
}
export interface LxcStatus extends ProviderStatus {
  /** Which way the agent drives containers: the LXD/Incus REST API, or the classic lxc-* tools. */
  backend?: 'incus' | 'lxd' | 'lxc-tools';
  /** The LXD/Incus API socket, when `backend` is incus or lxd. */
  socket?: string;
  /**
   * How a workspace's project folder keeps its owners inside the unprivileged instance: `shift`
   * (a disk device with shift=true), `mapped-owner` (a root agent gives the files to the
   * instance's mapped ids) or `raw.idmap` (the agent user's ids are root inside).
   */
  projectFolder?: 'shift' | 'mapped-owner' | 'raw.idmap';
  /** A clustered LXD: its members as LXD reports them, with how many instances each runs. */
  cluster?: LxdClusterMember[];
}
export interface LxdClusterMember {
  name: string;
  /** LXD's words: Online, Offline, Evacuated… */
  status: string;
  message: string;
  roles: string[];
  instances: number;
}
export interface ProvidersInfo {
  docker: DockerStatus;
  lxc: LxcStatus;
  qemu: QemuStatus;
}

export interface SystemInfo {
  hostname: string;
  /** PRETTY_NAME from /etc/os-release, else `os.type()`. */
  os: string;
  /** `uname -m` (x86_64, aarch64), else Node's `os.arch()`. */
  arch: string;
  /** `uname -r`. */
  kernel: string;
  cpus: number;
  memoryTotalBytes: number;
  memoryAvailableBytes: number;
  /** Free bytes on the file system holding the agent's home. */
  diskFreeBytes: number;
  diskTotalBytes: number;
  /** 1, 5 and 15 minute load averages. */
  load: [number, number, number];
  uptimeSeconds: number;
  nodeVersion: string;
}

export interface NodeInfo {
  agentVersion: string;
  system: SystemInfo;
  providers: ProvidersInfo;
}

export interface PingResult {
  /** Agent clock, ms since the epoch. */
  now: number;
}

export const Initialize = new RequestType<InitializeParams, InitializeResult, AgentErrorData>('initialize');
export const Ping = new RequestType0<PingResult, AgentErrorData>('agent/ping');
export const InspectNode = new RequestType0<NodeInfo, AgentErrorData>('node/inspect');
/** Stops the daemon after answering (used by `node remove --purge` and by upgrades). */
export const Shutdown = new RequestType0<{ pid: number }, AgentErrorData>('agent/shutdown');

export interface LogParams {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
}
/** Agent → client: something worth putting in the coordinator's log. */
export const LogNotification = new NotificationType<LogParams>('agent/didLog');
