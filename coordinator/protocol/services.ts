/**
 * The services part of the client ⇄ coordinator contract: what `vendetta workspace ports|logs|forward`
 * and the extension's tree ask for. The agent on the node runs the services; the coordinator relays.
 */
import { NotificationType, RequestType } from 'vscode-jsonrpc';
import type { ErrorData, ErrorName } from './errors';
import type { WorkspaceRef } from './workspaceRef';

// Restated from the agent's contract on purpose: clients (the extension) must not depend on agent/.
// test/types/restatedAgentTypes.ts fails the build when they drift.
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
  port?: number;
  nodePort?: number;
  /** With a port: `tcp` for a TCP-checked service, else `http`. */
  scheme?: 'http' | 'tcp';
  pid?: number;
  restarts: number;
  exitCode?: number | null;
  startedAt?: string;
  healthyAt?: string;
  nextRestartAt?: string;
  lastCheck?: { at: string; ok: boolean; output: string };
}

export interface ServiceLogLine {
  time: string;
  /** The service name, or `postCreate`/`postStart`. */
  service: string;
  stream: 'stdout' | 'stderr' | 'system';
  line: string;
}

/** Restated from coordinator/config on purpose (clients must not depend on it): Dev Containers' names. */
export type OnAutoForward = 'notify' | 'openBrowser' | 'openBrowserOnce' | 'openPreview' | 'silent' | 'ignore';

/** Where a port row comes from: a service's `port`, a `forwardPorts` entry, or found listening inside. */
export type PortSource = 'service' | 'forwardPorts' | 'detected';

/** One row of `vendetta workspace ports WS --json`. */
export interface PortInfo {
  source: PortSource;
  /** The service that owns it (a `service` row, or a `forwardPorts` entry written `service:port`). */
  service?: string;
  /** Port inside the workspace. */
  port: number;
  /** Where a service port is published on the node's loopback. */
  nodePort?: number;
  /** `http://127.0.0.1:<localPort>` when this coordinator forwards it, else a service's node-side URL. */
  url?: string;
  /** A service row's state. */
  health?: ServiceState;
  /** Set while `workspace forward` (or `up --forward`) carries it to this machine. */
  localPort?: number;
  /** Something listens on it inside the workspace now (absent: not known, e.g. the workspace is stopped). */
  listening?: boolean;
  /** It listens on the workspace's loopback only: the node cannot reach it at the workspace's address. */
  loopbackOnly?: boolean;
  /** From `portsAttributes` (or `otherPortsAttributes`). */
  label?: string;
  onAutoForward?: OnAutoForward;
  protocol?: 'http' | 'https';
}

export interface WorkspaceServices {
  name: string;
  node: string;
  services: ServiceStatus[];
}

export interface ServiceRef extends WorkspaceRef {
  service?: string;
}

export interface LogsParams extends ServiceRef {
  tail?: number;
  /** A duration (`5m`, `30s`) or an ISO 8601 time. */
  since?: string;
  follow?: boolean;
  /** Echoed in `services/didLog` notifications to this client while following. */
  followToken?: string;
}

export interface ForwardParams extends WorkspaceRef {
  /** The port inside the workspace (a service's `port`). */
  port: number;
  /** 0 or absent: the same number if free, else any free port. */
  localPort?: number;
  /**
   * End the forward when the client that asked disconnects (`workspace forward`); without it the
   * forward stays until `ports/unforward` or the workspace is removed (`up --forward`). An existing
   * forward of the same port is returned as it is.
   */
  untilDisconnect?: boolean;
}

export interface ForwardInfo {
  workspace: string;
  node: string;
  port: number;
  nodePort: number;
  localPort: number;
  url: string;
  /** True: it stays (also across coordinator restarts) until stopped or the workspace is removed; false: it ends with the client that asked. */
  kept?: boolean;
}

export const ListServicesRequest = new RequestType<WorkspaceRef, WorkspaceServices, ErrorData>('services/list');
export const StartServicesRequest = new RequestType<ServiceRef, WorkspaceServices, ErrorData>('services/start');
export const StopServicesRequest = new RequestType<ServiceRef, WorkspaceServices, ErrorData>('services/stop');
export const ListPortsRequest = new RequestType<WorkspaceRef, PortInfo[], ErrorData>('ports/list');
export const LogsRequest = new RequestType<LogsParams, { lines: ServiceLogLine[] }, ErrorData>('services/readLogs');
export const UnfollowLogsRequest = new RequestType<{ followToken: string }, { stopped: boolean }, ErrorData>(
  'services/unfollow',
);
/** Starts a listener on this machine's 127.0.0.1 that carries connections over the node's pooled link. */
export const ForwardPortRequest = new RequestType<ForwardParams, ForwardInfo, ErrorData>('ports/forward');
export const UnforwardPortRequest = new RequestType<
  { workspace: string; node?: string; port: number },
  { stopped: boolean },
  ErrorData
>('ports/unforward');
export const ListForwardsRequest = new RequestType<Record<string, never>, ForwardInfo[], ErrorData>(
  'ports/listForwards',
);

export const LogLinesNotification = new NotificationType<{ followToken: string; lines: ServiceLogLine[] }>(
  'services/didLog',
);
/** A connection to a forward was refused (e.g. its workspace is stopped): why, for whoever holds the forward. */
export interface ForwardRefusal extends ForwardInfo {
  error: { code: ErrorName; message: string; hint?: string };
}
export const ForwardRefused = new NotificationType<ForwardRefusal>('ports/didRefuse');
/** The ports listening inside a workspace changed (a dev server started or stopped): ask `ports/list` again. */
export const PortsDidChange = new NotificationType<WorkspaceRef & { node: string }>('ports/didChange');
/** A service in some workspace changed state (the tree's third level). */
export const ServicesDidChange = new NotificationType<WorkspaceServices>('services/didChange');
