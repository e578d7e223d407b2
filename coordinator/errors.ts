/**
 * The coordinator's one error type: a stable code, a one-line message a person understands,
 * a hint saying what to do, and the cause chain. It crosses the socket as a ResponseError.
 */
import { causeMessages } from '../common/errors/causes';
import { ResponseError } from 'vscode-jsonrpc';
import { ErrorCodes, type ErrorData, type ErrorName } from './protocol';

export interface VendettaErrorOptions {
  hint?: string;
  cause?: unknown;
  node?: string;
  provider?: string;
  details?: Record<string, unknown>;
}

export class VendettaError extends Error {
  readonly code: ErrorName;
  readonly hint?: string;
  readonly node?: string;
  readonly provider?: string;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorName, message: string, options: VendettaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VendettaError';
    this.code = code;
    this.hint = options.hint;
    this.node = options.node;
    this.provider = options.provider;
    this.details = options.details;
  }

  toResponseError(): ResponseError<ErrorData> {
    const data: ErrorData = { code: this.code, causes: causeMessages(this.cause) };
    if (this.hint) data.hint = this.hint;
    if (this.node) data.node = this.node;
    if (this.provider) data.provider = this.provider;
    if (this.details) data.details = this.details;
    return new ResponseError(ErrorCodes[this.code], this.message, data);
  }

  /** Rebuilds the error on the client side of the socket. */
  static fromResponseError(err: ResponseError<unknown>): VendettaError {
    const data = isErrorData(err.data) ? err.data : undefined;
    const code: ErrorName = data?.code ?? nameOfCode(err.code) ?? 'INTERNAL';
    const causes = data?.causes ?? [];
    const cause = causes.reduceRight<Error | undefined>(
      (inner, msg) => new Error(msg, inner ? { cause: inner } : undefined),
      undefined,
    );
    return new VendettaError(code, err.message, {
      hint: data?.hint,
      node: data?.node,
      provider: data?.provider,
      details: data?.details,
      cause,
    });
  }
}

/** Any thrown value as a VendettaError (unknown errors become INTERNAL, keeping the cause). */
export function toVendettaError(err: unknown): VendettaError {
  if (err instanceof VendettaError) return err;
  if (err instanceof ResponseError) return VendettaError.fromResponseError(err);
  const message = err instanceof Error ? err.message : String(err);
  return new VendettaError('INTERNAL', message, {
    cause: err,
    hint: 'This is a bug in vendetta; the log has the details.',
  });
}

function isErrorData(v: unknown): v is ErrorData {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { code?: unknown }).code === 'string' &&
    (v as { code: string }).code in ErrorCodes
  );
}

function nameOfCode(code: number): ErrorName | undefined {
  return (Object.keys(ErrorCodes) as ErrorName[]).find((k) => ErrorCodes[k] === code);
}
