/** What handlers may use: the daemon's identity and services, and their own connection's state. */
import type { CancellationToken, NotificationType } from 'vscode-jsonrpc';
import type { NodeInfo } from '../protocol';
import type { AGENT_REQUESTS, AgentRequestName, RequestParams, RequestResult } from '../protocol/requests';
import type { AgentPaths } from '../home';
import type { Logger } from '../log/logger';
import type { WorkspaceManager } from '../workspaces/manager';
import type { ServicesSupervisor } from '../services/supervisor';
import type { PortWatch } from '../workspaces/portWatch';

export interface DaemonContext {
  readonly pid: number;
  readonly startedAt: string;
  readonly buildId: string;
  readonly version: string;
  /** Where and how the daemon runs, for initialize (a coordinator reconnects straight to the socket). */
  readonly endpoint?: { socket: string; syncSocket?: string; execPath: string; script: string };
  readonly paths: AgentPaths;
  readonly logger: Logger;
  nodeInfo(): Promise<NodeInfo>;
  readonly workspaces: WorkspaceManager;
  readonly services: ServicesSupervisor;
  readonly ports: PortWatch;
  /** Stops the daemon once every answer in flight (this one included) has been written. */
  requestShutdown(reason: string): void;
}

export interface SessionState {
  readonly connectionId: number;
  initialized: boolean;
  client?: { name: string; version: string };
}

export interface HandlerContext {
  daemon: DaemonContext;
  session: SessionState;
  token: CancellationToken;
  /** Aborted when the client cancels this request: handed to provider calls. */
  signal: AbortSignal;
  /** Sends a notification to this request's client (progress); absent where there is no client. */
  notify?<P>(type: NotificationType<P>, params: P): void;
  /** Runs `listener` when this request's connection closes (ends a log follow). */
  onConnectionClose?(listener: () => void): void;
}

export interface HandlerSpec<P, R> {
  /** Throws an AgentError (INVALID_PARAMS) for anything that is not a P. */
  validate(raw: unknown): P;
  handle(params: P, ctx: HandlerContext): Promise<R> | R;
  /** Only `initialize` may run before `initialize`. */
  beforeInitialize?: true;
}

/** One spec per request of AGENT_REQUESTS, typed by its constant: a missing handler is a compile error. */
export type HandlerTable = {
  [N in AgentRequestName]: HandlerSpec<
    RequestParams<(typeof AGENT_REQUESTS)[N]>,
    RequestResult<(typeof AGENT_REQUESTS)[N]>
  >;
};
