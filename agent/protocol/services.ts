/**
 * The services part of the coordinator ⇄ agent contract. The agent, not the coordinator, runs a
 * workspace's services (inside the workspace, through its provider's exec), checks their health,
 * restarts them and keeps their logs on the node, so all of it goes on while the developer's
 * laptop sleeps. The coordinator only asks and subscribes.
 */
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { AgentErrorData } from './errorData';

/** argv (run as is) or a string (run by the workspace's `/bin/sh -c`, exactly as written). */
export type ServiceCommand = string | string[];

export type ServiceHealthcheckSpec = (
  | { kind: 'http'; url: string }
  | { kind: 'tcp'; port: number }
  | { kind: 'command'; command: ServiceCommand }
) & { intervalMs: number; timeoutMs: number; retries: number; startPeriodMs: number };

export type RestartPolicy = 'no' | 'on-failure' | 'always';

/** One service as the coordinator resolved it from the config (part of `WorkspaceSpec.services`). */
export interface ServiceSpec {
  /** NAME_PATTERN. */
  name: string;
  command: ServiceCommand;
  /** The port the service listens on inside the workspace; published on the node's loopback. */
  port?: number;
  /** The service's own env, over the workspace's env and the discovery env. */
  env: Record<string, string>;
  dependsOn: string[];
  healthcheck?: ServiceHealthcheckSpec;
  restart: RestartPolicy;
}

/** One command, or named commands run at the same time (devcontainer.json's object form). */
export type HookCommand = ServiceCommand | Record<string, ServiceCommand>;

/** The hooks the agent runs, in the order it runs them. */
export const HOOK_NAMES = ['onCreate', 'updateContent', 'postCreate', 'postStart', 'postAttach'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

export interface WorkspaceHooksSpec {
  /** Once, after the workspace is first created and the code is there (then updateContent, then postCreate). */
  onCreate?: HookCommand;
  updateContent?: HookCommand;
  postCreate?: HookCommand;
  /** Each time the workspace's services are started. */
  postStart?: HookCommand;
  /** Each time an SSH client connects to the workspace (`services/runPostAttach`), in the background. */
  postAttach?: HookCommand;
}

/** The lifecycle commands one Dev Container Feature declares (its devcontainer-feature.json). */
export interface FeatureHooks {
  /** The feature's reference as the config lists it (or as a dependency named it). */
  feature: string;
  hooks: Partial<Record<HookName, HookCommand>>;
}

/** One command of a hook: a feature's (run first, in install order) or the project's own. */
export interface HookStep {
  command: HookCommand;
  /** The feature that declared it; absent for the project's own. */
  feature?: string;
}

/**
 * - `waiting`: not started because a dependency is not healthy yet (`reason` names it).
 * - `starting`: running, health not yet proven (inside start_period or retries left).
 * - `running`: runs, and has no health check that could say more (dependants start).
 * - `healthy`: running and its check passes.
 * - `unhealthy`: running, but its check failed `retries` times (`lastCheck` says why).
 * - `restarting`: exited, a restart is scheduled (`nextRestartAt`).
 * - `crashloop`: exited too often; no more restarts until the next start.
 * - `exited`: exited and the policy does not restart it, or it could not run at all (exit 126/127).
 * - `stopped`: stopped on purpose.
 */
export type ServiceState =
  | 'waiting'
  | 'starting'
  | 'running'
  | 'healthy'
  | 'unhealthy'
  | 'restarting'
  | 'crashloop'
  | 'exited'
  | 'stopped';

export interface ServiceStatus {
  name: string;
  state: ServiceState;
  /** Why it is in this state, for a person: `waiting for db (unhealthy)`. */
  reason?: string;
  /** Port inside the workspace, and where it is published on the node's loopback. */
  port?: number;
  nodePort?: number;
  /** With a port: `tcp` for a TCP-checked service, else `http` (the scheme of its URL). */
  scheme?: 'http' | 'tcp';
  /** Process id inside the workspace, when running. */
  pid?: number;
  restarts: number;
  exitCode?: number | null;
  startedAt?: string;
  healthyAt?: string;
  nextRestartAt?: string;
  lastCheck?: { at: string; ok: boolean; output: string };
}

export interface WorkspaceServicesStatus {
  workspace: string;
  services: ServiceStatus[];
  hooks: Partial<Record<HookName, HookRun>>;
}

export interface HookRun {
  state: 'running' | 'succeeded' | 'failed';
  exitCode?: number | null;
  at: string;
  /** When it failed: the command that failed (with its name, in the object form), as written. */
  failed?: string;
}

export interface ServiceNameParams {
  workspace: string;
  /** All services when absent. */
  service?: string;
}

export interface ServiceLogsParams {
  workspace: string;
  /** All services (and hooks, labelled by their HOOK_NAMES) interleaved by time when absent. */
  service?: string;
  /** Last N lines (per the whole selection). */
  tail?: number;
  /** Only lines at or after this time (ISO 8601). */
  since?: string;
  /** Keep streaming new lines as `services/logLine` notifications carrying `followToken`. */
  follow?: boolean;
  followToken?: string;
}

export interface ServiceLogLine {
  /** ISO 8601 with milliseconds, when the agent read the line. */
  time: string;
  /** The service name, or a hook's name (HOOK_NAMES). */
  service: string;
  stream: 'stdout' | 'stderr' | 'system';
  line: string;
}

export interface ServiceLogsResult {
  lines: ServiceLogLine[];
}

export const ListServices = new RequestType<{ workspace: string }, WorkspaceServicesStatus, AgentErrorData>(
  'services/list',
);
/** (Re)start one service, or all in dependency order. */
export const StartServices = new RequestType<ServiceNameParams, WorkspaceServicesStatus, AgentErrorData>(
  'services/start',
);
/** Stop one service, or all in reverse dependency order (SIGTERM, SIGKILL after the grace period). */
export const StopServices = new RequestType<ServiceNameParams, WorkspaceServicesStatus, AgentErrorData>(
  'services/stop',
);
export const ServiceLogs = new RequestType<ServiceLogsParams, ServiceLogsResult, AgentErrorData>('services/readLogs');
/**
 * The node port that carries a workspace port, as the provider maps it now; refused when the
 * workspace is not running. Asked before each forwarded connection.
 */
export const ResolveNodePort = new RequestType<
  { workspace: string; port: number },
  /** `host`: connect to the workspace's own address there (a port no service publishes), not to 127.0.0.1. */
  { nodePort: number; host?: string },
  AgentErrorData
>('ports/resolveNodePort');
/**
 * An SSH client connected to the workspace: its postAttach hook runs in the background (not a
 * second time while one runs). `started` says whether one was started.
 */
export const RunPostAttach = new RequestType<{ workspace: string }, { started: boolean }, AgentErrorData>(
  'services/runPostAttach',
);
/** Ends a follow started by `services/readLogs`. */
export const UnfollowLogs = new RequestType<{ followToken: string }, { stopped: boolean }, AgentErrorData>(
  'services/unfollow',
);

export const ServiceLogLines = new NotificationType<{ followToken: string; lines: ServiceLogLine[] }>(
  'services/didLog',
);
/** Any service state change in any workspace on this node. */
export const ServicesDidChange = new NotificationType<WorkspaceServicesStatus>('services/didChange');
