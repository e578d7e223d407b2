/**
 * The workspace part of the client ⇄ coordinator contract: lifecycle requests, the list the
 * extension's tree shows, and the tunnel `vendetta ssh-proxy` and `workspace exec` ride on.
 */
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { ErrorData, ErrorName } from './errors';
import type { WorkspaceRef } from './workspaceRef';
import type { ForwardInfo, ServiceStatus } from './services';

// Restated from the agent's contract (test/types/restatedAgentTypes.ts keeps them equal).
export type WorkspaceState = 'creating' | 'running' | 'stopped' | 'error' | 'missing';
export type WorkspaceProvider = 'docker' | 'lxc' | 'qemu';

/** One row of `vendetta workspace list --json`. */
export interface WorkspaceSummary {
  name: string;
  node: string;
  provider: WorkspaceProvider;
  state: WorkspaceState;
  /** `<name>.<node>.vendetta`: the Host of its ssh_config block. */
  sshHost: string;
  createdAt: string;
  /** Where the project is inside the workspace (`/workspaces/<name>`). */
  workspaceFolder: string;
  /** The project folder on this machine it was made from; absent for one the coordinator did not make. */
  projectPath?: string;
  /** Set when state is `error` (or the node could not be asked). */
  error?: { code: ErrorName | string; message: string; hint?: string };
  /**
   * Set while an `up` has not finished, or when the last one stopped half-way (interrupted, or
   * failed): the step it reached. A running state then does not mean the code and services are there.
   */
  unfinished?: UnfinishedUp;
  /** When stopped: by a request, or by its node because it was idle for its idleTimeout; and when. */
  stopped?: { reason: 'request' | 'idle'; at: string };
  /** The cluster member that runs it, when the node's LXD is a cluster (the last one known while it cannot be asked). */
  member?: string;
}

/** How far an `up` got: its step of the total, in words, and when it began. */
export interface UnfinishedUp {
  step: number;
  total: number;
  message: string;
  since: string;
}

/** `vendetta workspace status --json`: the summary plus what the node reports now. */
export interface WorkspaceStatus extends WorkspaceSummary {
  image: string | null;
  user: string | null;
  startedAt: string | null;
  /** The workspace's sshd as the node sees it, and the fingerprint pinned for it. */
  ssh: { host: string; port: number; fingerprint: string } | null;
  /** The project's copy on the node. */
  nodeFolder: string | null;
  /** The services, when the workspace runs and the node could say. */
  services?: ServiceStatus[];
}

export interface WorkspaceUpParams {
  /** Absolute path of the project folder on the coordinator's machine. */
  path: string;
  node?: string;
  provider?: WorkspaceProvider;
  name?: string;
  /** `URL[#REF]`: clone this on the node instead of sending the local folder. */
  git?: string;
  /** Also forward the config's `forwardPorts` to this machine (they stay until unforwarded). */
  forward?: boolean;
  /**
   * Make an existing workspace's container again from the config (when it no longer matches:
   * image, build inputs, env, limits…). The workspace folder and host key stay; the rest goes.
   */
  recreate?: boolean;
  /** Send the laptop's version even over what the workspace changed (conflicts become `replaced`). */
  overwrite?: boolean;
  /**
   * The config file to read, inside the project (relative to it, or absolute): e.g.
   * `.devcontainer/python/devcontainer.json` when the project has several.
   */
  config?: string;
  /**
   * The environment of whoever asks (the CLI's, VS Code's), for devcontainer.json's `${localEnv:…}`:
   * the coordinator is a long-lived daemon whose own environment may be older.
   */
  localEnv?: Record<string, string>;
  /** The user's dotfiles (VS Code's `vendetta.dotfiles.*`, `--dotfiles`), installed once per workspace. */
  dotfiles?: DotfilesSettings;
  progressToken?: string;
}

/** As Dev Containers spells them: `dotfiles.repository`, `.installCommand`, `.targetPath`. */
export interface DotfilesSettings {
  /** A git URL, an absolute path on the node, or GitHub's `owner/repo`. */
  repository: string;
  /** The script in the repository to run (default: install.sh, install, bootstrap.sh… or else link the dotfiles into ~). */
  installCommand?: string;
  /** Where the clone goes in the workspace (default `~/dotfiles`). */
  targetPath?: string;
}

/** A process environment without its unset entries, as `localEnv` carries it. */
export function localEnvOf(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/**
 * A path that both the laptop and the workspace changed since the last sync (or one deleted and
 * the other changed): the sync left the workspace's version alone.
 */
export interface SyncConflict {
  path: string;
  local: 'added' | 'modified' | 'deleted';
  /** `folder`: a folder stands where the file goes; `blocked`: a file or link stands where one of its folders goes; `special`: a socket, FIFO or device. */
  workspace: 'added' | 'modified' | 'deleted' | 'folder' | 'blocked' | 'special';
}

export interface SyncReport {
  /** Files in the project (what was compared). */
  files: number;
  /** Files sent because they were new or changed. */
  sent: number;
  /** Bytes of file content sent. */
  bytes: number;
  deleted: number;
  /** Paths only the workspace changed since the last sync: left as the workspace has them. */
  kept: number;
  /** Changed on both sides: not sent, the workspace's version kept (the first SYNC_CONFLICTS_LISTED). */
  conflicts: SyncConflict[];
  /** How many conflicts there were in all (conflicts lists at most SYNC_CONFLICTS_LISTED). */
  conflictCount: number;
  /** With `overwrite`: the conflicts where the laptop's version replaced the workspace's (listed like conflicts). */
  replaced?: SyncConflict[];
  replacedCount?: number;
  elapsedMs: number;
}

/** A reply carries at most this many conflicts; `conflictCount` says how many there were. */
export const SYNC_CONFLICTS_LISTED = 1000;

export interface WorkspaceStartResult extends WorkspaceSummary {
  /** The services as they settled after the start (absent when the workspace has none). */
  services?: ServiceStatus[];
}

export interface WorkspaceUpResult extends WorkspaceSummary {
  /** true when the workspace already existed (started, or only synced). */
  existed: boolean;
  /** true when `recreate` made its container again. */
  recreated?: boolean;
  /** Running services `up` restarted because its sync changed the project (`reload: on-sync`). */
  restartedServices?: string[];
  /** Running services with `reload: never` that still run the code from before this sync. */
  staleServices?: string[];
  /** How the code got there: a sync report, or the clone that was made. */
  sync: SyncReport | null;
  git: { url: string; ref?: string; cloned: boolean } | null;
  elapsedMs: number;
  /** The services as they stood when `up` returned (absent when the config has none). */
  services?: ServiceStatus[];
  /** What `forward: true` forwarded. */
  forwards?: ForwardInfo[];
  /** The config's `vscode.extensions` (devcontainer.json's customizations) and its features', for the remote window to install. */
  vscodeExtensions?: string[];
  /** What went wrong without failing the `up` (empty when nothing did): the workspace runs regardless. */
  warnings: UpWarning[];
}

/**
 * A problem `up` said and went on: `CONFIG_WARNING` (a config entry ignored, located by file/line/col),
 * `DOTFILES_NOT_INSTALLED` (the clone or the install script failed; the next `up` tries again),
 * `PORT_NOT_FORWARDED` (a `forwardPorts` entry `--forward` could not forward), `SYNC_CONFLICTS`
 * (the workspace's version of files changed on both sides was kept), `NODE_WARNING` (something
 * the node does not apply, e.g. a Dev Container Feature's `legacyIds`).
 */
export interface UpWarning {
  code: string;
  message: string;
  hint?: string;
  file?: string;
  line?: number;
  col?: number;
}

export interface RemoveWorkspaceParams extends WorkspaceRef {
  /** Remove a running workspace too (it is stopped first). */
  force?: boolean;
}

/** Either the alias, or the workspace's name (and node, when the name is on several). */
export interface TunnelOpenParams {
  /** `<workspace>.<node>.vendetta`, as ssh passes `%h` to the ProxyCommand. */
  alias?: string;
  name?: string;
  node?: string;
  /**
   * Start the workspace first when it is stopped (ssh-proxy: connecting starts it). The answer
   * comes once its SSH server answers; its services start behind their checks meanwhile.
   */
  start?: boolean;
}

/**
 * What a tunnel client needs: the token to send as the first line of a second connection to
 * coordinator.sock (`VENDETTA-TUNNEL <token>\n`; the coordinator answers `VENDETTA-TUNNEL-OK\n`
 * and from then on the socket is a raw byte pipe to the workspace's sshd), and how to log in.
 */
export interface TunnelOpenResult {
  token: string;
  /** The token is good once, for this long. */
  expiresInMs: number;
  alias: string;
  name: string;
  node: string;
  user: string;
  identityFile: string;
  knownHostsFile: string;
  workspaceFolder: string;
  /** Set when `start` started a stopped workspace for this tunnel: how long that took. */
  startedMs?: number;
}

/** First line of a tunnel connection, then the token. */
export const TUNNEL_PREAMBLE = 'VENDETTA-TUNNEL ';
/** The coordinator's answer line when the pipe starts; anything else is `VENDETTA-TUNNEL-ERROR <json ErrorData+message>`. */
export const TUNNEL_OK = 'VENDETTA-TUNNEL-OK';
export const TUNNEL_ERROR = 'VENDETTA-TUNNEL-ERROR ';

export const WorkspaceUp = new RequestType<WorkspaceUpParams, WorkspaceUpResult, ErrorData>('workspaces/up');

/** One conflict settled: `local` sends the laptop's version of the path, `workspace` keeps the workspace's (and stops reporting it). */
export interface ResolveConflictParams extends WorkspaceRef {
  path: string;
  take: 'local' | 'workspace';
}
export interface ResolveConflictResult {
  path: string;
  take: 'local' | 'workspace';
  /** With `local`: what was sent. */
  sync?: SyncReport;
}
export const ResolveConflictRequest = new RequestType<ResolveConflictParams, ResolveConflictResult, ErrorData>(
  'workspaces/resolveConflict',
);

/** The workspace's copy of one synced path (to compare with the laptop's), at most 4 MiB of it. */
export interface ReadWorkspaceFileParams extends WorkspaceRef {
  path: string;
}
export interface ReadWorkspaceFileResult {
  /** Absent when nothing is there. */
  kind?: 'file' | 'symlink' | 'folder' | 'special' | 'blocked';
  /** A file's bytes (base64) or a symlink's target (utf8); absent when too large (see size) or not a file or link. */
  content?: string;
  encoding?: 'base64' | 'utf8';
  size?: number;
}
export const ReadWorkspaceFileRequest = new RequestType<ReadWorkspaceFileParams, ReadWorkspaceFileResult, ErrorData>(
  'workspaces/readFile',
);
export const ListWorkspacesRequest = new RequestType<Record<string, never>, WorkspaceSummary[], ErrorData>(
  'workspaces/list',
);
export const WorkspaceStatusRequest = new RequestType<WorkspaceRef, WorkspaceStatus, ErrorData>('workspaces/inspect');
/** Answers once the services are back behind their checks (or failed), as `up` does. */
export const StartWorkspaceRequest = new RequestType<WorkspaceRef, WorkspaceStartResult, ErrorData>('workspaces/start');
export const StopWorkspaceRequest = new RequestType<WorkspaceRef, WorkspaceSummary, ErrorData>('workspaces/stop');
export const RemoveWorkspaceRequest = new RequestType<RemoveWorkspaceParams, { name: string; node: string }, ErrorData>(
  'workspaces/remove',
);
export const TunnelOpen = new RequestType<TunnelOpenParams, TunnelOpenResult, ErrorData>('tunnels/open');

/** Sent to every client after a workspace was made, started, stopped or removed. */
export const WorkspacesDidChange = new NotificationType<{ workspaces: WorkspaceSummary[] }>('workspaces/didChange');
