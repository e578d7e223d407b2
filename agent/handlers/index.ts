import type { HandlerTable } from '../daemon/context';
import { initialize, ping, shutdown } from './lifecycle';
import { nodeInfo } from './node';
import { listServices, serviceLogs, serviceNodePort, startServices, stopFollowingLogs, stopServices } from './services';
import { holdForSync } from './syncLock';
import { createWorkspace, inspectWorkspace, listWorkspaces, removeWorkspace, startWorkspace, stopWorkspace } from './workspaces';
import { syncRead, syncScan } from './sync';

export const handlers: HandlerTable = {
  initialize,
  'agent/ping': ping,
  'node/info': nodeInfo,
  'agent/shutdown': shutdown,
  'workspaces/create': createWorkspace,
  'workspaces/start': startWorkspace,
  'workspaces/stop': stopWorkspace,
  'workspaces/holdForSync': holdForSync,
  'workspaces/remove': removeWorkspace,
  'workspaces/inspect': inspectWorkspace,
  'workspaces/list': listWorkspaces,
  'workspaces/syncScan': syncScan,
  'workspaces/syncRead': syncRead,
  'services/list': listServices,
  'services/start': startServices,
  'services/stop': stopServices,
  'services/logs': serviceLogs,
  'services/unfollow': stopFollowingLogs,
  'services/nodePort': serviceNodePort,
};
