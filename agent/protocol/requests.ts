/**
 * Every request the agent answers, by handler name, as its typed RequestType constant: the
 * agent's handler table is typed by this (a missing or extra handler, or a renamed constant, is
 * a compile error) and routes by each constant's `method`, so the method string is written once.
 */
import type { RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { AgentErrorData } from './errorData';
import { InspectNode, Initialize, Ping, Shutdown } from './index';
import { DetectPorts } from './ports';
import {
  ListServices,
  ServiceLogs,
  ResolveNodePort,
  StartServices,
  UnfollowLogs,
  StopServices,
  RunPostAttach,
} from './services';
import {
  CreateWorkspace,
  HoldForSync,
  InspectWorkspace,
  ListWorkspaces,
  RemoveWorkspace,
  StartWorkspace,
  StopWorkspace,
  SyncRead,
  SyncApply,
  SyncScan,
} from './workspaces';

export const AGENT_REQUESTS = {
  initialize: Initialize,
  ping: Ping,
  inspectNode: InspectNode,
  shutdown: Shutdown,
  createWorkspace: CreateWorkspace,
  startWorkspace: StartWorkspace,
  stopWorkspace: StopWorkspace,
  holdForSync: HoldForSync,
  syncApply: SyncApply,
  removeWorkspace: RemoveWorkspace,
  inspectWorkspace: InspectWorkspace,
  listWorkspaces: ListWorkspaces,
  syncScan: SyncScan,
  syncRead: SyncRead,
  listServices: ListServices,
  startServices: StartServices,
  stopServices: StopServices,
  readServiceLogs: ServiceLogs,
  unfollowLogs: UnfollowLogs,
  resolveNodePort: ResolveNodePort,
  runPostAttach: RunPostAttach,
  detectPorts: DetectPorts,
} as const;

export type AgentRequestName = keyof typeof AGENT_REQUESTS;
export type RequestParams<T> =
  T extends RequestType<infer P, unknown, AgentErrorData>
    ? P
    : T extends RequestType0<unknown, AgentErrorData>
      ? undefined
      : never;
export type RequestResult<T> =
  T extends RequestType<unknown, infer R, AgentErrorData>
    ? R
    : T extends RequestType0<infer R, AgentErrorData>
      ? R
      : never;
