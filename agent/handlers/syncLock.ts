/** workspaces/holdForSync: a sync-receive process holds the workspace's lock while its connection is open. */
import type { SyncTarget, WorkspaceNameParams } from '../protocol';
import type { HandlerSpec } from '../daemon/context';
import { validateNameParams } from './workspaceParams';

export const holdForSync: HandlerSpec<WorkspaceNameParams, SyncTarget> = {
  validate: validateNameParams('workspaces/holdForSync'),
  handle: (p, ctx) => {
    // Released when the sync-receive process closes its connection (or dies).
    const released = new Promise<void>((resolve) =>
      ctx.onConnectionClose ? ctx.onConnectionClose(resolve) : resolve(),
    );
    return ctx.daemon.workspaces.holdForSync(p.name, released);
  },
};
