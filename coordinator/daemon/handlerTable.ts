/**
 * The shape of the coordinator's request table: every request type of the protocol gets exactly
 * one entry with a validator and a handler (a missing one is a compile error), and the types of
 * params and results come from the protocol's RequestType constants.
 */
import type { CancellationToken, NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import {
  AddNode,
  CoordinatorShutdown,
  CoordinatorStatusRequest,
  Initialize,
  ListNodes,
  NodeStatusRequest,
  PingNode,
  ProbeHostKey,
  RemoveNode,
  TestNode,
  PrepareNode,
  ListWorkspacesRequest,
  RemoveWorkspaceRequest,
  StartWorkspaceRequest,
  StopWorkspaceRequest,
  TunnelOpen,
  WorkspaceStatusRequest,
  ListServicesRequest,
  StartServicesRequest,
  StopServicesRequest,
  ListPortsRequest,
  LogsRequest,
  UnfollowLogsRequest,
  ForwardPortRequest,
  UnforwardPortRequest,
  ListForwardsRequest,
  WorkspaceUp,
  LogToolCallRequest,
  ResolveConflictRequest,
  ReadWorkspaceFileRequest,
  type ErrorData,
  type InitializeParams,
} from '../protocol';

/** Every request a client may send, by name. */
export const REQUESTS = {
  initialize: Initialize,
  inspectCoordinator: CoordinatorStatusRequest,
  coordinatorShutdown: CoordinatorShutdown,
  listNodes: ListNodes,
  inspectNodes: NodeStatusRequest,
  probeHostKey: ProbeHostKey,
  addNode: AddNode,
  removeNode: RemoveNode,
  testNode: TestNode,
  prepareNode: PrepareNode,
  pingNode: PingNode,
  workspaceUp: WorkspaceUp,
  listWorkspaces: ListWorkspacesRequest,
  inspectWorkspace: WorkspaceStatusRequest,
  startWorkspace: StartWorkspaceRequest,
  stopWorkspace: StopWorkspaceRequest,
  removeWorkspace: RemoveWorkspaceRequest,
  tunnelOpen: TunnelOpen,
  resolveConflict: ResolveConflictRequest,
  readWorkspaceFile: ReadWorkspaceFileRequest,
  listServices: ListServicesRequest,
  startServices: StartServicesRequest,
  stopServices: StopServicesRequest,
  listPorts: ListPortsRequest,
  readServiceLogs: LogsRequest,
  unfollowLogs: UnfollowLogsRequest,
  forwardPort: ForwardPortRequest,
  unforwardPort: UnforwardPortRequest,
  listForwards: ListForwardsRequest,
  logToolCall: LogToolCallRequest,
} as const;

type ParamsOf<T> =
  T extends RequestType<infer P, unknown, ErrorData>
    ? P
    : T extends RequestType0<unknown, ErrorData>
      ? undefined
      : never;
type ResultOf<T> =
  T extends RequestType<unknown, infer R, ErrorData> ? R : T extends RequestType0<infer R, ErrorData> ? R : never;

export type ProgressReporter = (step: number, total: number, message: string) => void;

export interface ClientHandle {
  readonly id: number;
  initialized: InitializeParams | undefined;
  /** Cancelled when the client disconnects: what it subscribed to ends then. */
  readonly gone: CancellationToken;
  /** A notification to this client alone (log lines it follows); dropped once it is gone. */
  notify<P>(type: NotificationType<P>, params: P): void;
}

export interface RequestContext {
  client: ClientHandle;
  token: CancellationToken;
  /** Sends `progress/didReport` when the request carried a progressToken; a no-op otherwise. */
  progress: ProgressReporter;
}

export interface Handler<P, R> {
  /** Turns the raw wire params into P or throws a VendettaError saying what is wrong. */
  validate(raw: unknown): P;
  run(params: P, ctx: RequestContext): Promise<R> | R;
}

export type HandlerTable = {
  [K in keyof typeof REQUESTS]: Handler<ParamsOf<(typeof REQUESTS)[K]>, ResultOf<(typeof REQUESTS)[K]>>;
};

/** Handlers by method name, for the dispatcher (types erased at this one point). */
export function byMethod(table: HandlerTable): Map<string, Handler<unknown, unknown>> {
  const out = new Map<string, Handler<unknown, unknown>>();
  for (const key of Object.keys(REQUESTS) as Array<keyof typeof REQUESTS>) {
    out.set(REQUESTS[key].method, table[key] as Handler<unknown, unknown>);
  }
  return out;
}

/** The progressToken of a request's params, if it has one. */
export function progressTokenOf(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const t = (raw as { progressToken?: unknown }).progressToken;
  return typeof t === 'string' ? t : undefined;
}
