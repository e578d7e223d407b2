/**
 * The agent's one error type. Crosses the wire only as a ResponseError whose `data` is an
 * AgentErrorData (code name, hint, cause messages).
 */
import { causeMessages } from '../common/errors/causes';
import { ResponseError } from 'vscode-jsonrpc';
import {
  agentErrorCode,
  AgentErrorNames,
  type AgentErrorCode,
  type AgentErrorData,
  type AgentErrorName,
  type ProviderName,
} from './protocol';

export interface AgentErrorOptions {
  hint?: string;
  cause?: unknown;
  provider?: ProviderName;
  /** Extra fields for `data` (e.g. protocolVersion on a mismatch). */
  data?: Pick<AgentErrorData, 'protocolVersion' | 'agentVersion'>;
}

export class AgentError extends Error {
  readonly hint: string | undefined;
  readonly provider: ProviderName | undefined;
  readonly extra: AgentErrorOptions['data'];

  constructor(
    readonly code: AgentErrorName,
    message: string,
    opts: AgentErrorOptions = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AgentError';
    this.hint = opts.hint;
    this.provider = opts.provider;
    this.extra = opts.data;
  }

  get rpcCode(): AgentErrorCode {
    return agentErrorCode(this.code);
  }

  toData(): AgentErrorData {
    const data: AgentErrorData = { code: this.code };
    if (this.hint !== undefined) data.hint = this.hint;
    if (this.provider !== undefined) data.provider = this.provider;
    const causes = causeMessages(this.cause);
    if (causes.length) data.causes = causes;
    return { ...data, ...this.extra };
  }

  toResponseError(): ResponseError<AgentErrorData> {
    return new ResponseError(this.rpcCode, this.message, this.toData());
  }
}

/** Any thrown value as an AgentError; unknown failures become INTERNAL with the original as cause. */
export function toAgentError(err: unknown): AgentError {
  if (err instanceof AgentError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AgentError(AgentErrorNames.Internal, `The agent failed: ${message}`, {
    hint: 'See the agent log (~/.vendetta-agent/logs/agent.log on the node) for details.',
    cause: err,
  });
}

/** The errno code of a Node system error, if it is one. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
