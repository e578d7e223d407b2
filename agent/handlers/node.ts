/** node/info: the machine and its providers. */
import type { NodeInfo } from '../protocol';
import type { HandlerSpec } from '../daemon/context';
import { expectNoParams } from './validate';

export const nodeInfo: HandlerSpec<undefined, NodeInfo> = {
  validate: expectNoParams('node/info'),
  handle: (_params, { daemon }) => daemon.nodeInfo(),
};
