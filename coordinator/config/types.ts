/**
 * The workspace config as written in `.vendetta/config.yaml` (mirrors schemas/workspace.schema.json),
 * and the resolved form the rest of the product uses: defaults applied, durations in milliseconds.
 */

export type Provider = 'docker' | 'lxc' | 'qemu';
/** A duration as written: a whole number with ms, s, m or h (`500ms`, `2s`, `1m`). */
export type Duration = string;
/** A string run by `sh -c` in the workspace, or an argv list run as is. */
export type Command = string | string[];
/** A command, or named commands run at the same time (devcontainer.json's object form). */
export type HookCommand = Command | Record<string, Command>;
/** What runs at points of a workspace's life; `initialize` on the user's own machine, the rest inside. */
export interface HooksConfig {
  initialize?: HookCommand;
  onCreate?: HookCommand;
  updateContent?: HookCommand;
  postCreate?: HookCommand;
  postStart?: HookCommand;
  postAttach?: HookCommand;
}
export type HookName = keyof HooksConfig;
/** Docker's image build: a Dockerfile in a context folder of the project. */
export interface DockerBuildConfig {
  context?: string;
  dockerfile?: string;
  args?: Record<string, string>;
  target?: string;
}
/** Bytes, or a number with k, m, g or t (`2g`). */
export type Size = string | number;
export type EnvMap = Record<string, string | number | boolean>;
/** What `up` does with a running service when its sync changed files. */
export type ReloadPolicy = 'on-sync' | 'never';
export type RestartPolicy = 'no' | 'on-failure' | 'always';

export interface HealthcheckConfig {
  http?: string;
  tcp?: number;
  command?: Command;
  interval?: Duration;
  timeout?: Duration;
  retries?: number;
  start_period?: Duration;
}

export interface ServiceConfig {
  command: Command;
  port?: number;
  env?: EnvMap;
  depends_on?: string[];
  healthcheck?: HealthcheckConfig;
  restart?: RestartPolicy;
  reload?: ReloadPolicy;
}

/** Container options beyond image and limits (devcontainer.json's mounts, runArgs, privileged…). */
export interface DockerRunConfig {
  mounts?: Array<{ type: 'bind' | 'volume' | 'tmpfs'; source?: string; target: string; readonly?: boolean }>;
  privileged?: boolean;
  init?: boolean;
  capAdd?: string[];
  securityOpt?: string[];
  devices?: string[];
  gpus?: string;
  shmSize?: Size;
  ulimits?: Array<{ name: string; soft: number; hard: number }>;
  labels?: Record<string, string>;
}

/** Dev Container Features: reference (OCI, or `./` folder of the project) → its options. */
export type FeaturesConfig = Record<string, Record<string, string | boolean>>;

export interface DockerConfig {
  image?: string;
  build?: DockerBuildConfig;
  features?: FeaturesConfig;
  featureInstallOrder?: string[];
  run?: DockerRunConfig;
  cpus?: number;
  memory?: Size;
  pids?: number;
}

export interface LxcConfig {
  image?: string;
  profiles?: string[];
  config?: Record<string, string>;
  target?: string;
  cpus?: number;
  memory?: Size;
}

export interface QemuConfig {
  /** A path on the node, or an http(s) URL the node downloads once (with `imageSha256`). */
  image?: string;
  imageSha256?: string;
  cpus?: number;
  memory?: Size;
  disk?: Size;
  accel?: 'auto' | 'kvm' | 'tcg';
  projectShare?: 'auto' | '9p' | 'ssh';
  kernel?: string;
  initrd?: string;
  append?: string;
}

/** How a port is shown and what VS Code does when it starts listening (Dev Containers' names). */
export type OnAutoForward = 'notify' | 'openBrowser' | 'openBrowserOnce' | 'openPreview' | 'silent' | 'ignore';
export interface PortAttributes {
  label?: string;
  onAutoForward?: OnAutoForward;
  protocol?: 'http' | 'https';
}
export interface PortAttributesRule {
  from: number;
  to: number;
  attributes: PortAttributes;
}
/** A `forwardPorts` entry: the port inside the workspace, and the service a `service:port` entry named. */
export interface ForwardPort {
  port: number;
  service?: string;
}

export interface WorkspaceConfig {
  name: string;
  provider?: Provider;
  node?: string;
  docker?: DockerConfig;
  lxc?: LxcConfig;
  qemu?: QemuConfig;
  env?: EnvMap;
  /** For SSH logins and lifecycle hooks only, over `env`; not in the container's own environment. */
  remoteEnv?: EnvMap;
  services?: Record<string, ServiceConfig>;
  hooks?: HooksConfig;
  /** A port number, or `service:port` naming one of `services`. */
  forwardPorts?: Array<number | string>;
  /** By port (`"3000"`) or range (`"5000-5010"`). */
  portsAttributes?: Record<string, PortAttributes>;
  otherPortsAttributes?: PortAttributes;
  workspaceFolder?: string;
  user?: string;
  forwardAgent?: boolean;
  /** A duration (`30m`); off when absent. */
  idleTimeout?: string;
  vscode?: VscodeCustomizations;
  /** An env file on the laptop, relative to the project folder: the workspace's secrets. */
  secretsFile?: string;
}

/** What VS Code gets in the remote window: extensions installed there, machine settings written. */
export interface VscodeCustomizations {
  /** Extension ids, `publisher.name`. */
  extensions?: string[];
  settings?: Record<string, unknown>;
}

export type ResolvedHealthcheck = (
  | { kind: 'http'; url: string }
  | { kind: 'tcp'; port: number }
  | { kind: 'command'; command: Command }
) & { intervalMs: number; timeoutMs: number; retries: number; startPeriodMs: number };

export interface ResolvedService {
  name: string;
  command: Command;
  port?: number;
  /** Values as strings, ready for a process environment. */
  env: Record<string, string>;
  dependsOn: string[];
  healthcheck?: ResolvedHealthcheck;
  restart: RestartPolicy;
  reload: ReloadPolicy;
}

export type ResolvedDockerRun = Omit<DockerRunConfig, 'shmSize'> & { shmSizeBytes?: number };

export interface ResolvedWorkspaceConfig {
  name: string;
  provider: Provider;
  node: string;
  docker: {
    image: string;
    build?: { context: string; dockerfile: string; args?: Record<string, string>; target?: string };
    features?: FeaturesConfig;
    featureInstallOrder?: string[];
    run?: ResolvedDockerRun;
    cpus?: number;
    memoryBytes?: number;
    pids?: number;
  };
  lxc: {
    image: string;
    profiles?: string[];
    config?: Record<string, string>;
    target?: string;
    cpus?: number;
    memoryBytes?: number;
  };
  qemu: {
    image: string;
    imageSha256?: string;
    cpus: number;
    memoryBytes: number;
    diskBytes: number;
    accel: 'auto' | 'kvm' | 'tcg';
    /** Absent: `auto`. */
    projectShare?: 'auto' | '9p' | 'ssh';
    kernel?: string;
    initrd?: string;
    append?: string;
  };
  env: Record<string, string>;
  /** For logins and hooks only; a value may hold `${containerEnv:VAR}`, which the agent resolves. */
  remoteEnv?: Record<string, string>;
  /** In a start order: every service after the services it depends on. */
  services: ResolvedService[];
  hooks: HooksConfig;
  forwardPorts: ForwardPort[];
  /** In the file's order: the first rule whose range holds a port gives its attributes. */
  portsAttributes: PortAttributesRule[];
  otherPortsAttributes?: PortAttributes;
  workspaceFolder: string;
  user?: string;
  /** Whether the laptop's SSH agent may be forwarded into the workspace (opt-in). */
  forwardAgent: boolean;
  /** The node stops the workspace after this long idle; absent: never. */
  idleTimeoutMs?: number;
  vscode?: VscodeCustomizations;
  /** The secrets' env file, relative to the project folder (POSIX); absent: no secrets. */
  secretsFile?: string;
}
