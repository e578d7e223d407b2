/**
 * workspaces/holdForSync: a sync-receive process holds the workspace's lock while its connection
 * is open; workspaces/syncApply: what it wrote, said on that connection before it lets go.
 */
import type { SyncApplyParams, SyncTarget, WorkspaceNameParams } from '../protocol';
import type { HandlerSpec } from '../daemon/context';
import { validPath } from './sync';
import { isObj } from './specChecks';
import { invalid } from './validate';
import { validateNameParams, validName } from './workspaceParams';

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

export function validateReceivedParams(raw: unknown): SyncApplyParams {
  const m = 'workspaces/syncApply';
  if (!isObj(raw) || !Array.isArray(raw.paths)) throw invalid(m, 'expected an object {name, paths}');
  return { name: validName(m, raw.name), paths: raw.paths.map((p) => validPath(m, p)) };
}

export const syncApply: HandlerSpec<SyncApplyParams, null> = {
  validate: validateReceivedParams,
  handle: async (p, ctx) => {
    await ctx.daemon.workspaces.syncReceived(p.name, p.paths);
    return null;
  },
};
