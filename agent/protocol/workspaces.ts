/**
 * The workspace part of the coordinator ⇄ agent contract. The agent owns workspaces on its node:
 * it creates them through a provider, keeps a state file, and reconciles it with what the provider
 * reports on start. Every workspace the agent makes carries the label `dev.vendetta.workspace=<name>`.
 */
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { SyncReadParams, SyncReadResult, SyncScanParams, SyncScanResult } from './sync';
import type { AgentErrorData } from './errorData';
import type { ProviderName } from './providerNames';
import type { HookName, ServiceSpec, WorkspaceHooksSpec } from './services';

export const WORKSPACE_LABEL = 'dev.vendetta.workspace';

export type WorkspaceState = 'creating' | 'running' | 'stopped' | 'error' | 'missing';

/** What the coordinator asks the agent to build: a resolved config, durations/sizes as numbers. */
/**
 * A `docker.build` image is tagged `vendetta-ws/<workspace>:<hash of the build inputs>`: per
 * workspace, never over an image the project did not name, and a new tag when the inputs change.
 */
export function builtImagePrefix(workspace: string): string {
  return `vendetta-ws/${workspace}:`;
}

/** Settings of a `docker` workspace: the image (or how to build it) and the container's limits. */
export interface DockerSettings {
  image: string;
  /** Build the image on the node from this context (a path inside the synced project). */
  build?: { context: string; dockerfile?: string; args?: Record<string, string>; target?: string };
  cpus?: number;
  memoryBytes?: number;
  pids?: number;
  run?: DockerRunOptions;
  /** Dev Container Features installed on top of `base`; `image` is then the image they make. */
  features?: DockerFeatures;
}

/**
 * Dev Container Features (containers.dev/implementors/features): each `id` is an OCI reference
 * (`registry/path/name:tag`), fetched on the node with its registry credentials, or a folder of the
 * synced project (`./.devcontainer/features/x`). `installOrder` is overrideFeatureInstallOrder.
 */
export interface DockerFeatures {
  /** The image the features are installed on: `docker.build`'s image when there is one. */
  base: string;
  items: Array<{ id: string; options: Record<string, string | boolean> }>;
  installOrder?: string[];
}

/**
 * Container options beyond image and limits. Mount sources are paths on the node; the agent
 * refuses a bind mount of its own folder or one over the workspace folder.
 */
export interface DockerRunOptions {
  mounts?: Array<{ type: 'bind' | 'volume' | 'tmpfs'; source?: string; target: string; readonly?: boolean }>;
  privileged?: boolean;
  init?: boolean;
  capAdd?: string[];
  securityOpt?: string[];
  /** `/dev/x` or `/dev/x:/dev/y[:rwm]`. */
  devices?: string[];
  /** `all` or a count. */
  gpus?: string;
  shmSizeBytes?: number;
  ulimits?: Array<{ name: string; soft: number; hard: number }>;
  labels?: Record<string, string>;
}

/** What every workspace has, whatever runs it. */
export interface WorkspaceSpecCommon {
  /** NAME_PATTERN. */
  name: string;
  env: Record<string, string>;
  /**
   * For SSH logins and lifecycle hooks only, over `env`; never in the container's environment. A
   * value may use `${containerEnv:VAR}`, resolved by the agent against the container's environment.
   */
  remoteEnv?: Record<string, string>;
  /** Login user inside the workspace; `root` unless the config names one. */
  user: string;
  /** Absolute path inside the workspace where the project appears (`/workspaces/<name>`). */
  workspaceFolder: string;
  /** OpenSSH public key lines allowed to log in as `user`. */
  authorizedKeys: string[];
  /** In a start order (dependencies first). Each `port` is published on the node's loopback. */
  services?: ServiceSpec[];
  hooks?: WorkspaceHooksSpec;
  /** The workspace's sshd lets a client forward its SSH agent; absent or false: it refuses. */
  forwardAgent?: boolean;
  /** The agent stops the workspace after this long without a connection from outside or CPU use. */
  idleTimeoutMs?: number;
  /** The laptop's git `user.name` / `user.email`, for the login user's ~/.gitconfig unless it has its own. */
  gitIdentity?: GitIdentity;
  /**
   * Set by the agent, never sent: the names (not values) of the secrets of the create that made
   * or last changed the workspace. Their values arrive beside the spec (CreateWorkspaceParams).
   */
  secretNames?: string[];
}

export interface GitIdentity {
  name?: string;
  email?: string;
}

/**
 * The user's dotfiles (VS Code's `vendetta.dotfiles.*`, `up --dotfiles`, as Dev Containers spells
 * them): cloned on the node, put into the workspace and installed as the login user, once per workspace.
 */
export interface DotfilesSpec {
  /** What `git clone` on the node takes: a URL or an absolute path on the node. */
  repository: string;
  /** The script to run, relative to the clone (or `~/…`, absolute); default: the first of install.sh, install, bootstrap.sh… */
  installCommand?: string;
  /** Where the clone goes in the workspace: `~`, `~/…` or absolute; default `~/dotfiles`. */
  targetPath?: string;
}

export interface DockerWorkspaceSpec extends WorkspaceSpecCommon {
  provider: 'docker';
  docker: DockerSettings;
}

/** Settings of a `qemu` workspace: the base disk image, the VM's size and how it boots. */
export interface QemuSettings {
  /**
   * The base disk image (qcow2 or raw): a path on the node, or an http(s) URL the node downloads
   * once (checked against `imageSha256`, then cached); each workspace gets its own qcow2 overlay.
   */
  image: string;
  /** The sha256 (hex) a URL `image` must have; required for a URL. */
  imageSha256?: string;
  cpus?: number;
  memoryBytes?: number;
  /** The workspace disk's size; the overlay is grown to it when it is larger than the base. */
  diskBytes?: number;
  accel?: 'auto' | 'kvm' | 'tcg';
  /**
   * How the project folder reaches the guest: `9p` (the node folder itself, shared), `ssh` (a copy
   * in the guest kept in step over the agent's SSH connection), `auto` (9p when the guest mounts it).
   */
  projectShare?: 'auto' | '9p' | 'ssh';
  /** Direct kernel boot, for images without a bootloader. */
  kernel?: string;
  initrd?: string;
  append?: string;
}

export interface QemuWorkspaceSpec extends WorkspaceSpecCommon {
  provider: 'qemu';
  qemu: QemuSettings;
}

/**
 * A workspace as the coordinator resolved it from the config: the common part and the settings of
 * its provider, under the provider's own key. One member per runnable provider, so a provider's
 * settings are only reachable once `provider` says which it is.
 */
export interface LxcWorkspaceSpecMember extends WorkspaceSpecCommon {
  provider: 'lxc';
  lxc: LxcWorkspaceSpec;
}

export type WorkspaceSpec = DockerWorkspaceSpec | LxcWorkspaceSpecMember | QemuWorkspaceSpec;

/** The image a workspace runs, in its provider's own terms (shown in lists and status). */
export function specImage(spec: WorkspaceSpec): string {
  switch (spec.provider) {
    case 'docker':
      return spec.docker.image;
    case 'lxc':
      return spec.lxc.image;
    case 'qemu':
      return spec.qemu.image;
  }
}

/** An LXD/Incus system container. */
export interface LxcWorkspaceSpec {
  /** An alias or fingerprint in the node's image store. */
  image: string;
  /** Profiles applied in order (LXD's `default` when absent). */
  profiles?: string[];
  /** Instance config keys from a short allow-list (security.nesting, limits.cpu, limits.memory). */
  config?: Record<string, string>;
  cpus?: number;
  memoryBytes?: number;
  /** On a clustered LXD: the member (or `@group`) to place the instance on; LXD decides when absent. */
  target?: string;
}

export interface WorkspaceHostKey {
  /** e.g. `ssh-ed25519`. */
  type: string;
  /** The public key as in known_hosts: `ssh-ed25519 AAAA…`. */
  publicKey: string;
  /** `SHA256:…`, as ssh-keygen -lf prints it. */
  fingerprint: string;
}

export interface WorkspaceInfo {
  name: string;
  provider: ProviderName;
  state: WorkspaceState;
  image: string;
  user: string;
  workspaceFolder: string;
  /** The project folder on the node, bind-mounted at workspaceFolder. */
  nodeFolder: string;
  /** The workspace's sshd as the node sees it (loopback), and its pinned host key. */
  ssh: { host: string; port: number; hostKey: WorkspaceHostKey } | null;
  /** Provider's id (container id, LXC name, VM pid file…). */
  providerId?: string;
  /** The cluster member that runs it (a node whose LXD is a cluster). */
  member?: string;
  createdAt: string;
  startedAt?: string;
  error?: { code: string; message: string; hint?: string };
  /** When stopped: who stopped it (a request, or the agent because it was idle) and when. */
  stopped?: { reason: 'request' | 'idle'; at: string };
  /** What its Dev Container Features add (docker, with `features`): absent when they add nothing. */
  features?: FeaturesAdded;
  /** Only in a create's answer: what went wrong without failing it (the dotfiles), absent when nothing did. */
  warnings?: CreateWarning[];
}

/**
 * A `progress/didReport` message that starts with this is a warning the user should still see
 * once `up` is done (the coordinator lists it in up's `warnings`): today, a Dev Container Feature's
 * setting the agent does not apply.
 */
export const PROGRESS_WARNING_PREFIX = 'Warning: ';

/** `DOTFILES_NOT_INSTALLED`: the clone or the install script failed; the next create tries again. */
export interface CreateWarning {
  code: 'DOTFILES_NOT_INSTALLED';
  message: string;
}

/** A VS Code extension id as `customizations.vscode.extensions` lists it (the workspace schema has the same). */
export const EXTENSION_ID = /^[A-Za-z0-9][A-Za-z0-9-]*\.[A-Za-z0-9][A-Za-z0-9-]*$/;

/** VS Code customizations (`customizations.vscode` of a devcontainer.json or a feature). */
export interface VscodeAdditions {
  extensions: string[];
  settings: Record<string, unknown>;
}

export interface FeaturesAdded {
  /** The hooks some feature has commands for (the agent runs them before the project's own). */
  hooks: HookName[];
  /** Each feature's `customizations.vscode`, in install order (the coordinator merges them with the project's). */
  vscode: VscodeAdditions[];
}

export interface CreateWorkspaceParams {
  spec: WorkspaceSpec;
  /** Echoed in `progress/didReport` notifications. */
  progressToken?: string;
  /**
   * Make the container again from this spec, keeping the node folder and the host key. Without
   * it, a workspace whose container no longer matches the spec is refused with WORKSPACE_OUTDATED.
   */
  recreate?: boolean;
  /**
   * The workspace's secrets (`secretsFile` on the laptop), for its login environment and its
   * services; absent: it has none (any it had are removed). Kept on the node in a 0600 file only,
   * never in the spec, the state file, a log or an error.
   */
  secrets?: Record<string, string>;
  /** Installed once per workspace (a made workspace that has them is left alone). */
  dotfiles?: DotfilesSpec;
}

export interface WorkspaceNameParams {
  name: string;
}

export interface RemoveWorkspaceParams {
  name: string;
  /** Remove even when running, and when the provider no longer knows it. */
  force?: boolean;
}

/**
 * Create, or start if it exists: idempotent by name, so a create retried after a killed agent or a
 * cut link finds the half-made workspace (by label) instead of making a second one.
 */
export const CreateWorkspace = new RequestType<CreateWorkspaceParams, WorkspaceInfo, AgentErrorData>(
  'workspaces/create',
);
export const StartWorkspace = new RequestType<WorkspaceNameParams, WorkspaceInfo, AgentErrorData>('workspaces/start');
export const StopWorkspace = new RequestType<WorkspaceNameParams, WorkspaceInfo, AgentErrorData>('workspaces/stop');
/**
 * Taken by `agent.js sync-receive` before it writes: answered once no create, start, stop or
 * remove of the workspace is running, and none starts until this connection closes.
 */
export const HoldForSync = new RequestType<WorkspaceNameParams, SyncTarget, AgentErrorData>('workspaces/holdForSync');
/**
 * Sent by `agent.js sync-receive` on its HoldForSync connection once the stream is applied: the
 * paths it wrote or deleted, which a workspace holding a copy of the node folder (a VM without a
 * shared folder) gets before the lock is let go.
 */
export const SyncApply = new RequestType<SyncApplyParams, null, AgentErrorData>('workspaces/syncApply');
export interface SyncApplyParams {
  name: string;
  paths: string[];
}
/** Where a sync writes, and (for a root agent and a non-root login user) whom its files belong to. */
export interface SyncTarget {
  nodeFolder: string;
  owner?: { uid: number; gid: number };
  /** The workspace may keep a copy of the folder (QEMU): say what was written (SyncApply). */
  copied?: true;
}
/** Removes the container/VM, the project folder on the node and the state entry. */
export const RemoveWorkspace = new RequestType<RemoveWorkspaceParams, { name: string }, AgentErrorData>(
  'workspaces/remove',
);
export const InspectWorkspace = new RequestType<WorkspaceNameParams, WorkspaceInfo, AgentErrorData>(
  'workspaces/inspect',
);
export const ListWorkspaces = new RequestType<Record<string, never>, WorkspaceInfo[], AgentErrorData>(
  'workspaces/list',
);
/** Which of the synced paths the workspace changed since the last sync (see ./sync.ts). */
export const SyncScan = new RequestType<SyncScanParams, SyncScanResult, AgentErrorData>('workspaces/syncScan');
/** One file of the workspace's copy, for showing a conflict (see ./sync.ts). */
export const SyncRead = new RequestType<SyncReadParams, SyncReadResult, AgentErrorData>('workspaces/syncRead');

export interface WorkspaceProgressParams {
  token: string;
  step: number;
  total: number;
  message: string;
}
export const WorkspaceProgress = new NotificationType<WorkspaceProgressParams>('progress/didReport');
/** The agent changed a workspace on its own (stopped it for being idle): ask it again with workspaces/inspect. */
export const WorkspaceDidChange = new NotificationType<{ name: string }>('workspaces/didChange');

/**
 * The code-sync byte stream does not go through JSON-RPC: the coordinator runs
 * `agent.js sync-receive <workspace>` (an SSH exec channel, or a child process for `local`) and
 * writes a tar stream to its stdin. The first entry is `.vendetta-sync.json` holding
 * `SyncHeader`; the rest are the changed files (permission bits without setuid/setgid/sticky, and
 * mtime kept). The receiver holds the workspace's lock (HoldForSync) and extracts into the
 * workspace's nodeFolder below folder descriptors, never through a link (the running workspace can
 * change the folder meanwhile), refusing absolute paths, `..` and links that leave the folder, then
 * prints one JSON line `SyncSummary` on stdout and exits 0 (non-zero with an error line otherwise).
 *
 * The same stream may go to the daemon itself instead (no process starts): one connection to its
 * sync socket (InitializeResult.syncSocket) per sync, which opens with one line, the JSON
 * `SyncStreamOpening`, then the archive; the daemon answers with the same one JSON line and closes.
 */
export const SYNC_HEADER_ENTRY = '.vendetta-sync.json';
export interface SyncHeader {
  /** Paths (relative, POSIX) to delete before extracting. */
  delete: string[];
}
/** The first line of a sync stream to the daemon's sync socket. */
export interface SyncStreamOpening {
  workspace: string;
}
/** Longest opening line the daemon reads; anything longer is refused. */
export const SYNC_STREAM_OPENING_MAX = 1024;
export interface SyncSummary {
  written: number;
  deleted: number;
  bytes: number;
}
