import type { HandlerTable } from '../daemon/context';
import { initialize, ping, shutdown } from './lifecycle';
import { nodeInfo } from './node';
import {
  listServices,
  serviceLogs,
  serviceNodePort,
  startServices,
  unfollowLogs,
  stopServices,
  workspaceAttached,
} from './services';
import { holdForSync, syncReceived } from './syncLock';
import { detectPorts } from './ports';
import {
  createWorkspace,
  inspectWorkspace,
  listWorkspaces,
  removeWorkspace,
  startWorkspace,
  stopWorkspace,
} from './workspaces';
import { syncRead, syncScan } from './sync';

export const handlers: HandlerTable = {
  initialize,
  ping,
  nodeInfo,
  shutdown,
  createWorkspace,
  startWorkspace,
  stopWorkspace,
  holdForSync,
  syncReceived,
  removeWorkspace,
  inspectWorkspace,
  listWorkspaces,
  syncScan,
  syncRead,
  listServices,
  startServices,
  stopServices,
  serviceLogs,
  unfollowLogs,
  serviceNodePort,
  workspaceAttached,
  detectPorts,
};
