/** Routes one request: the initialize gate, param validation, then the handler. */
import { AgentError } from '../errors';
import { AGENT_REQUESTS, type AgentRequestName } from '../protocol/requests';
import type { HandlerContext, HandlerSpec, HandlerTable } from './context';

const routes = new WeakMap<HandlerTable, ReadonlyMap<string, HandlerSpec<unknown, unknown>>>();

/** The table's specs by each request constant's `method`. */
function byMethod(table: HandlerTable): ReadonlyMap<string, HandlerSpec<unknown, unknown>> {
  let map = routes.get(table);
  if (!map) {
    map = new Map(
      Object.entries(AGENT_REQUESTS).map(([name, type]) => [
        type.method,
        table[name as AgentRequestName] as HandlerSpec<unknown, unknown>,
      ]),
    );
    routes.set(table, map);
  }
  return map;
}

export async function dispatch(
  table: HandlerTable,
  method: string,
  params: unknown,
  ctx: HandlerContext,
): Promise<unknown> {
  const spec = byMethod(table).get(method);
  if (!ctx.session.initialized && !spec?.beforeInitialize) {
    throw new AgentError('NOT_INITIALIZED', `${method} was sent before initialize`, {
      hint: 'Send initialize first on every connection to the agent.',
    });
  }
  if (!spec) {
    throw new AgentError('METHOD_NOT_FOUND', `The agent has no method ${JSON.stringify(method.slice(0, 100))}`, {
      hint: 'The client is newer than the agent: upgrade the agent.',
    });
  }
  return spec.handle(spec.validate(params), ctx);
}
