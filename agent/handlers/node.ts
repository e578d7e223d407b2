/** node/inspect: the machine and its providers. */
import type { NodeInfo } from '../protocol';
import type { HandlerSpec } from '../daemon/context';
import { expectNoParams } from './validate';

export const inspectNode: HandlerSpec<undefined, NodeInfo> = {
  validate: expectNoParams('node/inspect'),
  handle: (_params, { daemon }) => daemon.nodeInfo(),
};
