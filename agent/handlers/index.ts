import type { HandlerTable } from '../daemon/context';
import { initialize, ping, shutdown } from './lifecycle';
import { inspectNode } from './node';
import {
  listServices,
  readServiceLogs,
  resolveNodePort,
  startServices,
  unfollowLogs,
  stopServices,
  runPostAttach,
} from './services';
import { holdForSync, syncApply } from './syncLock';
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
  inspectNode,
  shutdown,
  createWorkspace,
  startWorkspace,
  stopWorkspace,
  holdForSync,
  syncApply,
  removeWorkspace,
  inspectWorkspace,
  listWorkspaces,
  syncScan,
  syncRead,
  listServices,
  startServices,
  stopServices,
  readServiceLogs,
  unfollowLogs,
  resolveNodePort,
  runPostAttach,
  detectPorts,
};
