import type { HandlerTable } from '../daemon/context';
import { initialize, ping, shutdown } from './lifecycle';
import { nodeInfo } from './node';

export const handlers: HandlerTable = {
  initialize,
  'agent/ping': ping,
  'node/info': nodeInfo,
  'agent/shutdown': shutdown,
};
