/** services/*: list, start, stop, logs (with follow), unfollow, attached (see protocol/services.ts). */
import {
  ServiceLogLines,
  type ServiceLogsParams,
  type ServiceLogsResult,
  type ServiceNameParams,
  type WorkspaceServicesStatus,
} from '../protocol';
import { AgentError } from '../errors';
import type { HandlerSpec } from '../daemon/context';
import {
  validateLogsParams,
  validateNodePortParams,
  validateServiceNameParams,
  validateUnfollowParams,
  validateWorkspaceOnly,
} from './serviceParams';

export const listServices: HandlerSpec<{ workspace: string }, WorkspaceServicesStatus> = {
  validate: validateWorkspaceOnly('services/list'),
  handle: (p, { daemon }) => daemon.services.list(p.workspace),
};

export const startServices: HandlerSpec<ServiceNameParams, WorkspaceServicesStatus> = {
  validate: validateServiceNameParams('services/start'),
  handle: (p, { daemon }) => daemon.services.start(p.workspace, p.service),
};

export const stopServices: HandlerSpec<ServiceNameParams, WorkspaceServicesStatus> = {
  validate: validateServiceNameParams('services/stop'),
  handle: (p, { daemon }) => daemon.services.stop(p.workspace, p.service),
};

/**
 * The lines so far; with follow, new lines then go to this connection as `services/didLog`
 * until services/unfollow or until the connection closes. The follow starts before the read,
 * so no line falls between the two (a line may come both ways; the time tells).
 */
export const readServiceLogs: HandlerSpec<ServiceLogsParams, ServiceLogsResult> = {
  validate: validateLogsParams,
  async handle(p, ctx) {
    const { services } = ctx.daemon;
    await services.ensure(p.workspace);
    const token = p.follow ? p.followToken : undefined;
    if (token !== undefined) {
      const notify = ctx.notify;
      if (!notify)
        throw new AgentError(
          'INVALID_PARAMS',
          'Invalid params for services/readLogs: follow needs a connection to send lines to',
        );
      services.follows.add(token, p.workspace, p.service, (lines) =>
        notify(ServiceLogLines, { followToken: token, lines }),
      );
      ctx.onConnectionClose?.(() => services.follows.remove(token));
    }
    return { lines: await services.logs(p) };
  },
};

export const unfollowLogs: HandlerSpec<{ followToken: string }, { stopped: boolean }> = {
  validate: validateUnfollowParams,
  handle: (p, { daemon }) => ({ stopped: daemon.services.follows.remove(p.followToken) }),
};

export const resolveNodePort: HandlerSpec<{ workspace: string; port: number }, { nodePort: number; host?: string }> = {
  validate: validateNodePortParams,
  handle: (p, { daemon }) => daemon.services.nodePort(p.workspace, p.port),
};

export const runPostAttach: HandlerSpec<{ workspace: string }, { started: boolean }> = {
  validate: validateWorkspaceOnly('services/runPostAttach'),
  handle: (p, { daemon }) => daemon.services.attached(p.workspace),
};
