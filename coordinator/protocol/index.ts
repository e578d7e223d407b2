/**
 * The client (extension, CLI) ⇄ coordinator contract: JSON-RPC 2.0 over
 * `$VENDETTA_HOME/coordinator.sock`. Imports nothing but vscode-jsonrpc types.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { ErrorData, ErrorName } from './errors';

export * from './workspaces';
export * from './services';
export * from './mcp';
export * from './errors';
export * from './workspaceRef';
export * from './runtimeOffers';

/** Bumped on any incompatible change; exchanged in `initialize`. */
export const COORDINATOR_PROTOCOL_VERSION = 2;

export interface InitializeParams {
  protocolVersion: number;
  client: { name: string; version: string };
}
export interface InitializeResult {
  protocolVersion: number;
  coordinatorVersion: string;
  pid: number;
  home: string;
  startedAt: string;
}

export type NodeTransport = 'ssh' | 'local';
export type NodeState = 'online' | 'offline' | 'unknown';

export interface ProviderSummary {
  available: boolean;
  version?: string;
  error?: string;
}
/** A member of a node's LXD cluster (the agent's LxdClusterMember). */
export interface LxdMemberSummary {
  name: string;
  status: string;
  message: string;
  roles: string[];
  instances: number;
}
export interface NodeProviders {
  docker: ProviderSummary;
  /** `projectFolder`: how an LXC workspace's project folder keeps its owners (the agent's LxcStatus). */
  lxc: ProviderSummary & { projectFolder?: 'shift' | 'mapped-owner' | 'raw.idmap'; cluster?: LxdMemberSummary[] };
  qemu: ProviderSummary & { kvm: boolean };
}

/** One row of `vendetta node list --json`. */
export interface NodeSummary {
  name: string;
  host: string;
  port: number;
  user: string;
  transport: NodeTransport;
  status: NodeState;
  latencyMs: number | null;
  agentVersion: string | null;
  providers: NodeProviders | null;
  lastSeen: string | null;
  labels?: Record<string, string>;
  error?: { code: ErrorName; message: string; hint?: string };
}

/** The agent's SystemInfo, restated (clients must not depend on agent/; test/types/restatedAgentTypes.ts keeps them equal). */
export interface NodeSystem {
  hostname: string;
  os: string;
  arch: string;
  kernel: string;
  cpus: number;
  memoryTotalBytes: number;
  memoryAvailableBytes: number;
  diskFreeBytes: number;
  diskTotalBytes: number;
  load: [number, number, number];
  uptimeSeconds: number;
  nodeVersion: string;
}
/** The Node.js the agent runs on, and where it came from (`upload`: vendetta's own, uploaded). */
export interface NodeRuntimeInfo {
  source: 'node' | 'upload' | 'package';
  path: string;
  version: string;
}
/** One row of `vendetta node status --json`: the summary plus system figures. */
export interface NodeStatus extends NodeSummary {
  system: NodeSystem | null;
  /** Set when the agent answered. */
  runtime?: NodeRuntimeInfo;
}

export interface ProgressParams {
  /** The `progressToken` the client put in its request. */
  token: string;
  step: number;
  total: number;
  message: string;
  /** Time the previous step took, once it is done. */
  elapsedMs?: number;
}

export interface ProbeHostKeyParams {
  host: string;
  port?: number;
}
export interface ProbeHostKeyResult {
  keyType: string;
  fingerprint: string;
  /** Fingerprint already pinned for this host:port, if any. */
  pinned: string | null;
}

export interface AddNodeParams {
  name: string;
  host: string;
  port?: number;
  user?: string;
  identity?: string;
  /** `SHA256:…` the node's host key must match. */
  hostKeyFingerprint?: string;
  acceptNewHostKey?: boolean;
  replaceHostKey?: boolean;
  /** false: register only, do not upload or start the agent. */
  install?: boolean;
  /**
   * When the node has no usable Node.js: `upload` vendetta's own, `package` install the
   * distribution's (root or passwordless sudo), `never`. Absent: fail with the offers in the error.
   */
  installRuntime?: 'upload' | 'package' | 'never';
  labels?: Record<string, string>;
  progressToken?: string;
}
export interface AddNodeResult {
  node: NodeStatus;
  hostKeyFingerprint: string;
  /** Set when vendetta generated a key the user must install on the node. */
  generatedPublicKey?: { path: string; publicKey: string; installHint: string };
  /** Set when `node add` brought the node a Node.js for the agent. */
  runtimeInstalled?: { how: 'upload' | 'package'; version: string; path: string; ms: number };
}

export interface RemoveNodeParams {
  name: string;
  /** Also remove the node's workspaces (on the node and here), then stop the agent and delete its files. */
  purge?: boolean;
  /** With purge: change nothing, only list the workspaces a purge would remove. */
  dryRun?: boolean;
  /** With purge: the workspace names the user confirmed; any other found on the node aborts the purge. */
  workspaces?: string[];
}

/** One workspace a purge removes (or, in a dry run, would remove). */
export interface PurgedWorkspace {
  name: string;
  provider: string;
  /** As the node reported it; absent when only this machine knew the workspace. */
  state?: string;
  /** The provider's id (the container). */
  container?: string;
  /** The workspace's folder on the node. */
  folder?: string;
  /** Its ssh_config alias here, and whether its block and pinned host key line were there. */
  sshHost?: string;
  sshConfigBlock: boolean;
  knownHostsLine: boolean;
}

export interface RemoveNodeResult {
  name: string;
  purged: boolean;
  /** Set by a dry run: nothing was changed. */
  dryRun?: boolean;
  /** With purge: the workspaces removed (or that would be). */
  workspaces?: PurgedWorkspace[];
}

export interface TestStep {
  name: string;
  ok: boolean;
  /** A failure that does not fail the node (a provider it lacks, when it has another). */
  optional?: boolean;
  detail: string;
  hint?: string;
  elapsedMs: number;
}
export interface TestNodeResult {
  name: string;
  ok: boolean;
  steps: TestStep[];
}

export type PrepareProvider = 'docker' | 'lxc' | 'qemu';
export interface PrepareNodeParams {
  name: string;
  provider: PrepareProvider;
  /** Plan only: print the commands, run nothing. */
  dryRun?: boolean;
  progressToken?: string;
}
export interface PreparePlanStep {
  title: string;
  /** The exact command, `sudo` in front when it runs through sudo. */
  command: string;
  status: 'planned' | 'ran' | 'skipped';
  /** Said before it runs (a group that is root-equivalent). */
  warning?: string;
}
export interface PrepareNodeResult {
  name: string;
  provider: PrepareProvider;
  dryRun: boolean;
  /** The node as the plan saw it: distribution, machine, package manager, user. */
  system: string;
  privilege: 'root' | 'sudo' | 'none';
  steps: PreparePlanStep[];
  /** Set when the SSH user cannot become root: what an administrator would run. */
  adminCommands?: string[];
  /** `node test` after a real run. */
  test?: TestNodeResult;
}

export interface CoordinatorStatus {
  pid: number;
  version: string;
  home: string;
  startedAt: string;
  uptimeSeconds: number;
  clients: number;
  nodes: number;
  connectedNodes: number;
  memoryRssBytes: number;
  /** Set while nodes.yaml on disk does not validate (the last good registry is in use). */
  registryError?: { file: string; line: number; col: number; message: string; hint?: string };
}

export const Initialize = new RequestType<InitializeParams, InitializeResult, ErrorData>('initialize');
export const CoordinatorStatusRequest = new RequestType0<CoordinatorStatus, ErrorData>('coordinator/inspect');
export const CoordinatorShutdown = new RequestType0<{ pid: number }, ErrorData>('coordinator/shutdown');

export const ListNodes = new RequestType0<NodeSummary[], ErrorData>('nodes/list');
export const NodeStatusRequest = new RequestType<{ name?: string }, NodeStatus[], ErrorData>('nodes/inspect');
export const ProbeHostKey = new RequestType<ProbeHostKeyParams, ProbeHostKeyResult, ErrorData>('nodes/probeHostKey');
export const AddNode = new RequestType<AddNodeParams, AddNodeResult, ErrorData>('nodes/add');
export const RemoveNode = new RequestType<RemoveNodeParams, RemoveNodeResult, ErrorData>('nodes/remove');
export const TestNode = new RequestType<{ name: string }, TestNodeResult, ErrorData>('nodes/test');
/** Installs a provider with the node's package manager (or, dryRun, only says how). */
export const PrepareNode = new RequestType<PrepareNodeParams, PrepareNodeResult, ErrorData>('nodes/prepare');
/** Round trip coordinator → agent → coordinator; what the dispatch benchmark measures. */
export const PingNode = new RequestType<{ name: string }, { latencyMs: number }, ErrorData>('nodes/ping');

export const NodesDidChange = new NotificationType<{ nodes: NodeSummary[] }>('nodes/didChange');
export const ProgressNotification = new NotificationType<ProgressParams>('progress/didReport');
