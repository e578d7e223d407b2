/** workspaces/*: create, start, stop, remove, inspect, list (see protocol/workspaces.ts). */
import {
  WorkspaceProgress,
  type CreateWorkspaceParams,
  type RemoveWorkspaceParams,
  type WorkspaceInfo,
  type WorkspaceNameParams,
} from '../protocol';
import type { HandlerContext, HandlerSpec } from '../daemon/context';
import type { Progress } from '../workspaces/manager';
import { expectNoParams } from './validate';
import { validateCreateParams, validateNameParams, validateRemoveParams } from './workspaceParams';

/** Progress notifications go to the asking client, tagged with its token (none without one). */
function progressFor(token: string | undefined, ctx: HandlerContext): Progress {
  if (!token || !ctx.notify) return () => undefined;
  const notify = ctx.notify;
  return (step, total, message) => notify(WorkspaceProgress, { token, step, total, message });
}

export const createWorkspace: HandlerSpec<CreateWorkspaceParams, WorkspaceInfo> = {
  validate: validateCreateParams,
  handle: (p, ctx) =>
    ctx.daemon.workspaces.create(
      p.spec,
      progressFor(p.progressToken, ctx),
      p.recreate === true,
      ctx.signal,
      p.secrets,
      p.dotfiles,
    ),
};

export const startWorkspace: HandlerSpec<WorkspaceNameParams, WorkspaceInfo> = {
  validate: validateNameParams('workspaces/start'),
  handle: (p, { daemon, signal }) => daemon.workspaces.start(p.name, undefined, signal),
};

export const stopWorkspace: HandlerSpec<WorkspaceNameParams, WorkspaceInfo> = {
  validate: validateNameParams('workspaces/stop'),
  handle: (p, { daemon, signal }) => daemon.workspaces.stop(p.name, 'request', signal),
};

export const removeWorkspace: HandlerSpec<RemoveWorkspaceParams, { name: string }> = {
  validate: validateRemoveParams,
  handle: (p, { daemon, signal }) => daemon.workspaces.remove(p.name, p.force === true, signal),
};

export const inspectWorkspace: HandlerSpec<WorkspaceNameParams, WorkspaceInfo> = {
  validate: validateNameParams('workspaces/inspect'),
  handle: (p, { daemon }) => daemon.workspaces.inspect(p.name),
};

export const listWorkspaces: HandlerSpec<Record<string, never>, WorkspaceInfo[]> = {
  validate: (raw) => (expectNoParams('workspaces/list')(raw), {}),
  handle: (_p, { daemon }) => daemon.workspaces.list(),
};
