/**
 * How providers are detected: each provider describes the probes it needs (an HTTP GET over a
 * Unix socket, a command with argv, a file access check) and turns their outcomes into a status
 * with pure functions. One ProbeRunner executes probes, so the parsing is tested against
 * recorded outcomes and the runner against real peers.
 *
 * Workspace providers follow the same split: each describes its calls and parses the replies
 * with pure functions (tested against recorded replies), and one client executes the calls.
 */
import type { AgentError } from '../errors';
import type { VmNodeUsage } from '../workspaces/hostUsage';
import type {
  FeatureHooks,
  ProviderName,
  SyncReadResult,
  SyncScanChange,
  SyncScanEntry,
  VscodeAdditions,
  WorkspaceSpec,
} from '../protocol';

export type Probe =
  | { kind: 'http-unix'; socketPath: string; path: string }
  | { kind: 'exec'; file: string; args: string[] }
  | { kind: 'access'; path: string; mode: 'rw' | 'r' };

export type ProbeOutcome =
  /** HTTP: status and body. exec: exit 0, stdout as body. access: allowed. */
  | { ok: true; status: number; body: string }
  /** errno name (ENOENT, EACCES, ECONNREFUSED, ETIMEDOUT…) or exit code; message for the log. */
  | { ok: false; code: string; message: string; status?: number; body?: string };

export interface ProbeRunner {
  run(probe: Probe, timeoutMs: number): Promise<ProbeOutcome>;
}

/* ───────────── Workspaces ───────────── */

/** A workspace as its provider sees it (a container, an LXC instance, a VM). */
export interface ProviderWorkspace {
  /** The `dev.vendetta.workspace` label's value. */
  name: string;
  providerId: string;
  /** `created`: exists but was never started (or a create was cut short). */
  state: 'created' | 'running' | 'stopped' | 'error';
  image: string;
  /** The workspace's port 22 as published on the node's loopback, while running. */
  sshPort?: number;
  /**
   * Every TCP port of the workspace published on the node's loopback, as the provider maps it
   * now (`{ "8080": 41234 }`), while running: what a forwarded connection is checked against.
   */
  publishedPorts?: Record<string, number>;
  /**
   * The workspace's own IP address, reachable from the node with no proxy between, while
   * running: node-side health checks connect there.
   */
  address?: string;
  createdAt?: string;
  startedAt?: string;
  /** Why the provider reports the workspace as failed (restart loop, runtime error). */
  error?: string;
  /** `agent`: it runs the SSH server the agent brought (the image has none), which cannot reload its config. */
  sshServer?: 'image' | 'agent';
  /** The node folder bind-mounted into the workspace, if the provider can tell. */
  nodeFolder?: string;
  /** The cluster member that runs it, when the node's engine is a cluster (LXD). */
  member?: string;
  labels: Record<string, string>;
  /** The container's environment (image and spec), if the provider can tell: `${containerEnv:…}` reads it. */
  env?: Record<string, string>;
}

/** A file or folder seeded into a workspace at create, or put into it later (authorized_keys). */
export interface WorkspaceFile {
  /** Absolute path inside the workspace. */
  path: string;
  type: 'file' | 'directory';
  mode: number;
  uid?: number;
  gid?: number;
  content?: string | Buffer;
}

/**
 * The SSH server a workspace must run, as an intent: the provider decides how to run it (Docker:
 * the container's main process, in the foreground).
 */
export interface SshServerIntent {
  /** The image's OpenSSH server, used when the image has it. */
  binary: string;
  /** Its config file inside the workspace (one of `seedFiles`). */
  configPath: string;
  /**
   * The node's own server, packed to run in a workspace whose image has none (broughtSshd.ts);
   * it needs the privilege-separation user that sshdAccountFiles adds. Throws SSHD_MISSING
   * when the node cannot give one.
   */
  bring(): Promise<BroughtSshServer>;
}

/** An SSH server the agent brings: a node folder mounted read-only into the workspace. */
export interface BroughtSshServer {
  nodeDir: string;
  /** Where the folder appears inside the workspace. */
  mountPath: string;
  /** The server's argv inside the workspace: in the foreground, logging to stderr. */
  argv: string[];
}

/**
 * What every provider call may carry: a signal that cancels it (the client cancelled its request).
 * A cancelled call rejects; what it had already made stays for the next call to adopt or remove.
 */
export interface CallOptions {
  signal?: AbortSignal;
}

/** The signal of `opts` as the option an HTTP call takes (none when there is none). */
export const signalOf = (opts: CallOptions): { signal?: AbortSignal } => (opts.signal ? { signal: opts.signal } : {});

export interface StartOptions extends CallOptions {
  /** Hears what a slow start is doing (a VM's boot console). */
  progress?(message: string): void;
}

export interface ProviderCreateRequest extends CallOptions {
  spec: WorkspaceSpec;
  /**
   * The project's folder on the node (it exists), to appear at spec.workspaceFolder inside; how
   * it gets there is the provider's choice (Docker: a bind mount).
   */
  nodeFolder: string;
  /** Extra labels (the workspace label is always set). */
  labels: Record<string, string>;
  ssh: SshServerIntent;
  /** In place before the workspace first starts (sshd config, host key, authorized_keys, /run/sshd). */
  seedFiles: WorkspaceFile[];
  /**
   * The node port on 127.0.0.1 where the workspace's SSH server (port 22 inside) is published: the
   * agent chose it and keeps it in its record, so it stays across stop/start and agent restarts.
   */
  sshNodePort: number;
  /** Service ports to publish on the node's 127.0.0.1, at node ports the agent chose. */
  ports?: Array<{ guestPort: number; nodePort: number }>;
  /** Reuse this workspace (found by label, left by a create that was cut short) instead of making another. */
  adopt?: string;
  progress(message: string): void;
}

export type PrepareImageRequest = Pick<ProviderCreateRequest, 'spec' | 'nodeFolder' | 'progress' | 'signal'>;

/** What a workspace's features add beside the image: lifecycle commands and VS Code customizations. */
export interface FeatureContributions {
  hooks: FeatureHooks[];
  vscode: VscodeAdditions[];
}

export interface PreparedImage {
  /** Variables the image sets that logins see too (the features' containerEnv). */
  env: Record<string, string>;
  /** Absent when the features add nothing of the kind. */
  features?: FeatureContributions;
}

export interface ExecOptions extends CallOptions {
  /** `root` by default. */
  user?: string;
  env?: Record<string, string>;
  workingDir?: string;
  tty?: boolean;
  stdin?: AsyncIterable<Buffer> | Buffer;
  /** Streamed output; without a sink the output is collected (up to a bound) into the result. */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  timeoutMs?: number;
}

export interface ExecResult {
  exitCode: number;
  /** Collected output when no sink was given (bounded). */
  stdout: string;
  stderr: string;
}

/**
 * What the agent needs from a workspace provider. Every workspace carries the label
 * `dev.vendetta.workspace=<name>`; `list` returns those and nothing else. Operations on a
 * workspace the provider no longer knows reject with AgentError WORKSPACE_MISSING, except
 * `inspect` (undefined) and `remove` (done).
 */
export interface WorkspaceProvider {
  readonly name: ProviderName;
  /**
   * Where a connection to a published node port arrives inside the workspace: at its own
   * `address` (Docker's proxy and NAT, QEMU's user-mode network), where a service listening on
   * 127.0.0.1 only is not reached without the agent's relay (services/relay.ts); or at its
   * `loopback` (a proxy that connects from inside, as LXD's proxy device does), needing none.
   */
  readonly publishedPortsArrive: 'address' | 'loopback';
  /**
   * Ports inside the workspace that only the agent itself connects to (QEMU's control SSH): not a
   * user's activity for the idle watch, not a port a user opened for the port watch.
   */
  readonly agentOnlyPorts?: readonly number[];
  /**
   * Why this provider will not make the workspace a spec describes on this node, checked before
   * anything is made (Docker: a bind mount that would hand the workspace the agent's own folder,
   * `agentHome`); undefined when it will.
   */
  refusal?(spec: WorkspaceSpec, agentHome: string): AgentError | undefined;
  /**
   * Makes the image ready before `create` (Docker: installs Dev Container Features), and says the
   * variables it sets that logins must see too (sshd sessions do not inherit the container's).
   */
  prepareImage?(req: PrepareImageRequest): Promise<PreparedImage>;
  /** Makes the workspace exist, not yet started: image, container/instance, files in place. */
  create(req: ProviderCreateRequest): Promise<ProviderWorkspace>;
  /** Starts it (no-op when running) and returns it as running, with its published SSH port. */
  start(providerId: string, opts?: StartOptions): Promise<ProviderWorkspace>;
  stop(providerId: string, opts?: CallOptions): Promise<void>;
  remove(providerId: string, opts?: CallOptions): Promise<void>;
  inspect(providerId: string, opts?: CallOptions): Promise<ProviderWorkspace | undefined>;
  list(opts?: CallOptions): Promise<ProviderWorkspace[]>;
  /** Places files into an existing workspace (running or not). */
  putFiles(providerId: string, files: WorkspaceFile[], opts?: CallOptions): Promise<void>;
  /**
   * Publishes one more port of a running workspace on the node's 127.0.0.1 (a port a dev server
   * opened by hand), for a provider whose workspaces have no `address` the node reaches; the same
   * node port again for the same port; gone when the workspace stops.
   */
  publishPort?(providerId: string, guestPort: number, opts?: CallOptions): Promise<number>;
  /** Runs argv (no shell) inside a running workspace. */
  exec(providerId: string, argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /**
   * What the workspace's own machine costs the node (a VM's emulator process): bounds what its
   * guest says of its CPU for the idle watch; absent where the node's kernel counts it directly.
   */
  nodeUsage?(providerId: string): Promise<VmNodeUsage | undefined>;
  /** The last lines of the workspace's main process output, for error messages. */
  logs(providerId: string, lines: number, opts?: CallOptions): Promise<string>;
  /**
   * The ids a user of the workspace has on the node, for files the agent puts into the project
   * folder; absent when they are the same on both sides (Docker without user namespaces). An
   * unprivileged LXD instance shifts them (root inside is 100000 outside).
   */
  nodeIds?(
    providerId: string,
    inside: { uid: number; gid: number },
    opts?: CallOptions,
  ): Promise<{ uid: number; gid: number }>;
  /**
   * For a workspace whose project is a copy of the node folder rather than the folder itself (a
   * VM without a shared folder): the sync's scan and read answered from that copy (undefined: the
   * node folder answers), and the paths a sync just wrote into the node folder, to be copied on
   * (`owner`: the login user's ids inside, who gets them).
   */
  syncScan?(providerId: string, entries: readonly SyncScanEntry[]): Promise<SyncScanChange[] | undefined>;
  syncRead?(providerId: string, path: string): Promise<SyncReadResult | undefined>;
  syncReceived?(providerId: string, paths: readonly string[], owner?: { uid: number; gid: number }): Promise<void>;
}

/**
 * A start refused because a node port the workspace publishes on 127.0.0.1 is held by another
 * process: each provider recognises this in its own runtime's words and throws this, so the
 * agent can say which service it was and what to do without knowing the runtime.
 */
export class NodePortTakenError extends Error {
  constructor(
    readonly nodePort: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NodePortTakenError';
  }
}
