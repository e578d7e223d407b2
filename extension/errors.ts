/**
 * Errors as the extension shows them: one line for a person (`Failed to <verb> <target>: <reason>`),
 * the whole chain for the log. Pure: no vscode import, so unit tests read it directly.
 */
import { causeMessages } from '../common/errors/causes';
import { ResponseError } from 'vscode-jsonrpc';
import { ErrorCodes, type ErrorData } from '../coordinator/protocol';

/** An error raised by the extension itself, shaped like the coordinator's. */
export class ExtensionError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ExtensionError';
  }
}

/** The user cancelled an input or a progress notification: never reported. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

export interface ErrorInfo {
  message: string;
  hint?: string;
  /** The coordinator's stable name (`NODE_UNREACHABLE`), when it came from there. */
  code?: string;
  causes: string[];
  cancelled: boolean;
  /** The coordinator is older than this request (e.g. services before they were built). */
  methodNotFound: boolean;
}

function isErrorData(d: unknown): d is ErrorData {
  return typeof d === 'object' && d !== null && typeof (d as { code?: unknown }).code === 'string';
}

export function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof CancelledError)
    return { message: 'cancelled', causes: [], cancelled: true, methodNotFound: false };
  if (err instanceof ResponseError) {
    const data = isErrorData(err.data) ? err.data : undefined;
    return {
      message: err.message,
      ...(data?.hint ? { hint: data.hint } : {}),
      ...(data?.code ? { code: data.code } : {}),
      causes: data?.causes ?? [],
      cancelled: data?.code === 'CANCELLED' || err.code === -32800,
      methodNotFound: err.code === ErrorCodes.METHOD_NOT_FOUND,
    };
  }
  if (err instanceof ExtensionError) {
    return {
      message: err.message,
      ...(err.hint ? { hint: err.hint } : {}),
      causes: causeMessages(err instanceof Error ? err.cause : undefined),
      cancelled: false,
      methodNotFound: false,
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return {
    message,
    causes: causeMessages(err instanceof Error ? err.cause : undefined),
    cancelled: false,
    methodNotFound: false,
  };
}

/** The one line a person sees: `Failed to stop shop: the node build-1 is unreachable`. */
export function failureLine(action: string, err: unknown): string {
  const info = errorInfo(err);
  const reason = info.message.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
  return `Failed to ${action}: ${reason}${info.hint ? `. ${info.hint}` : ''}`;
}

/** Every detail, for the log channel. */
export function failureDetail(action: string, err: unknown): string {
  const info = errorInfo(err);
  const lines = [`Failed to ${action}: ${info.message}`];
  if (info.code) lines.push(`  code: ${info.code}`);
  if (info.hint) lines.push(`  hint: ${info.hint}`);
  for (const c of info.causes) lines.push(`  caused by: ${c}`);
  if (!(err instanceof ResponseError) && err instanceof Error && err.stack && !(err instanceof ExtensionError))
    lines.push(err.stack);
  return lines.join('\n');
}
