/** Routes one request: the initialize gate, param validation, then the handler. */
import { AgentError } from '../errors';
import type { HandlerContext, HandlerSpec, HandlerTable } from './context';

export async function dispatch(table: HandlerTable, method: string, params: unknown, ctx: HandlerContext): Promise<unknown> {
  const spec: HandlerSpec<unknown, unknown> | undefined = Object.prototype.hasOwnProperty.call(table, method)
    ? (table[method as keyof HandlerTable] as HandlerSpec<unknown, unknown>)
    : undefined;
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
