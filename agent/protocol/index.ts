/**
 * The coordinator ⇄ agent contract. JSON-RPC 2.0 over the agent daemon's Unix socket
 * (bridged through `vendetta-agent attach` on an SSH exec channel, or a child process's
 * stdio for the `local` transport). Imports nothing but vscode-jsonrpc types.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';

/** Bumped on any incompatible change; exchanged in `initialize`. */
export const AGENT_PROTOCOL_VERSION = 1;

/** Node and workspace names, everywhere: DESIGN.md "Names and untrusted input". */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const AgentErrorCodes = {
  /** Params failed validation at the agent's boundary. */
  InvalidParams: -32602,
  ProtocolMismatch: 2001,
  NotInitialized: 2002,
  ProviderUnavailable: 2003,
  Internal: 2099,
} as const;
export type AgentErrorCode = (typeof AgentErrorCodes)[keyof typeof AgentErrorCodes];

/** `data` of every ResponseError the agent sends. */
export interface AgentErrorData {
  /** Stable machine-readable name, e.g. `PROTOCOL_MISMATCH`. */
  code: string;
  hint?: string;
  provider?: ProviderName;
  /** Messages of the cause chain, outermost first. */
  causes?: string[];
}

export type ProviderName = 'docker' | 'lxc' | 'qemu';
export const PROVIDER_NAMES: readonly ProviderName[] = ['docker', 'lxc', 'qemu'];

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
}

export interface ProviderStatus {
  available: boolean;
  version?: string;
  /** Why it is unavailable, in words a person understands. */
  error?: string;
}
export interface QemuStatus extends ProviderStatus {
  /** /dev/kvm exists and is usable by the agent's user. */
  kvm: boolean;
}
export interface ProvidersInfo {
  docker: ProviderStatus & { apiVersion?: string; socket?: string };
  lxc: ProviderStatus;
  qemu: QemuStatus;
}

export interface SystemInfo {
  hostname: string;
  /** PRETTY_NAME from /etc/os-release, else `os.type()`. */
  os: string;
  arch: string;
  kernel: string;
  cpus: number;
  memoryTotalBytes: number;
  memoryAvailableBytes: number;
  /** Free bytes on the file system holding the agent's home. */
  diskFreeBytes: number;
  diskTotalBytes: number;
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
export const GetNodeInfo = new RequestType0<NodeInfo, AgentErrorData>('node/info');
/** Stops the daemon after answering (used by `node remove --purge` and by upgrades). */
export const Shutdown = new RequestType0<{ pid: number }, AgentErrorData>('agent/shutdown');

export interface LogParams {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
}
/** Agent → client: something worth putting in the coordinator's log. */
export const LogNotification = new NotificationType<LogParams>('agent/log');
