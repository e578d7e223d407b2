/** The coordinator's services, ports and logs requests: params validated here, then the services manager. */
import { HOOK_NAMES } from '../../agent/protocol';
import type { HandlerTable } from '../daemon/handlerTable';
import * as v from '../daemon/validate';
import { VendettaError } from '../errors';
import type { ForwardParams, LogsParams, ServiceRef } from '../protocol';
import { validateRef } from '../workspaces/handlers';
import { workspaceName } from '../workspaces/names';
import type { ServicesManager } from './manager';
import { parseSince } from './parse';

type ServicesHandlers = Pick<
  HandlerTable,
  | 'listServices'
  | 'startServices'
  | 'stopServices'
  | 'listPorts'
  | 'readServiceLogs'
  | 'unfollowLogs'
  | 'forwardPort'
  | 'unforwardPort'
  | 'listForwards'
>;

/** Service names follow the workspace-name rule; the hooks' names (`postCreate`…) name their logs. */
export function serviceName(x: unknown): string {
  if (typeof x === 'string' && (/^[a-z0-9][a-z0-9-]{0,62}$/.test(x) || (HOOK_NAMES as readonly string[]).includes(x)))
    return x;
  throw new VendettaError(
    'INVALID_PARAMS',
    `Invalid service name: ${typeof x === 'string' ? v.quote(x) : 'not a string'}`,
    {
      hint: 'Service names are lowercase letters, digits and dashes, as in the config; `vendetta workspace ports WS` lists them.',
    },
  );
}

export function validateServiceRef(raw: unknown, method: string): ServiceRef {
  const p = v.paramsObject(raw, method, ['name', 'node', 'service']);
  const service = v.optional(p.service, serviceName);
  return {
    ...validateRef({ name: p.name, ...(p.node !== undefined ? { node: p.node } : {}) }, method),
    ...(service !== undefined ? { service } : {}),
  };
}

export function validateLogs(raw: unknown): LogsParams {
  const p = v.paramsObject(raw, 'services/readLogs', [
    'name',
    'node',
    'service',
    'tail',
    'since',
    'follow',
    'followToken',
  ]);
  const out: LogsParams = validateServiceRef({ name: p.name, node: p.node, service: p.service }, 'services/readLogs');
  const tail = v.optional(p.tail, (x) => {
    if (!Number.isInteger(x) || (x as number) < 0 || (x as number) > 1_000_000)
      throw new VendettaError('INVALID_PARAMS', 'services/readLogs: tail must be a whole number from 0 to 1000000', {
        hint: 'e.g. --tail 100',
      });
    return x as number;
  });
  if (tail !== undefined) out.tail = tail;
  if (p.since !== undefined) {
    if (typeof p.since !== 'string')
      throw new VendettaError('INVALID_PARAMS', 'services/readLogs: since must be a string', {
        hint: 'A duration (5m) or an ISO 8601 time.',
      });
    parseSince(p.since);
    out.since = p.since;
  }
  const follow = v.optional(p.follow, (x) => v.boolean(x, 'follow'));
  if (follow) out.follow = true;
  const token = v.optional(p.followToken, (x) => v.token(x, 'followToken'));
  if (token !== undefined) out.followToken = token;
  if (out.follow && token === undefined)
    throw new VendettaError('INVALID_PARAMS', 'services/readLogs: follow needs a followToken', {
      hint: 'Send a followToken; new lines come as services/didLog notifications carrying it.',
    });
  return out;
}

export function validateForward(raw: unknown): ForwardParams {
  const p = v.paramsObject(raw, 'ports/forward', ['name', 'node', 'port', 'localPort', 'untilDisconnect']);
  const out: ForwardParams = {
    ...validateRef({ name: p.name, ...(p.node !== undefined ? { node: p.node } : {}) }, 'ports/forward'),
    port: v.port(p.port),
  };
  if (p.localPort !== undefined && p.localPort !== 0) out.localPort = v.port(p.localPort, 'localPort');
  const until = v.optional(p.untilDisconnect, (x) => v.boolean(x, 'untilDisconnect'));
  if (until) out.untilDisconnect = true;
  return out;
}

export function servicesHandlers(services: ServicesManager): ServicesHandlers {
  return {
    listServices: {
      validate: (raw) => validateRef(raw, 'services/list'),
      run: (p) => services.list(p),
    },
    startServices: {
      validate: (raw) => validateServiceRef(raw, 'services/start'),
      run: (p) => services.start(p),
    },
    stopServices: {
      validate: (raw) => validateServiceRef(raw, 'services/stop'),
      run: (p) => services.stop(p),
    },
    listPorts: {
      validate: (raw) => validateRef(raw, 'ports/list'),
      run: (p) => services.ports(p),
    },
    readServiceLogs: {
      validate: validateLogs,
      run: (p, ctx) => services.logs(p, ctx.client),
    },
    unfollowLogs: {
      validate: (raw) => ({
        followToken: v.token(v.paramsObject(raw, 'services/unfollow', ['followToken']).followToken, 'followToken'),
      }),
      run: async (p, ctx) => ({ stopped: await services.unfollow(p.followToken, ctx.client) }),
    },
    forwardPort: {
      validate: validateForward,
      run: (p, ctx) => services.forward(p, ctx.client),
    },
    unforwardPort: {
      validate(raw) {
        const p = v.paramsObject(raw, 'ports/unforward', ['workspace', 'node', 'port']);
        const node = v.optional(p.node, (x) => v.nodeName(x));
        return { workspace: workspaceName(p.workspace), port: v.port(p.port), ...(node !== undefined ? { node } : {}) };
      },
      run: (p) => ({ stopped: services.unforward(p) }),
    },
    listForwards: {
      validate: (raw) => (v.paramsObject(raw, 'ports/listForwards', []), {}),
      run: () => services.forwards.list(),
    },
  };
}
