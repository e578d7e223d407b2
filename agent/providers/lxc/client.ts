/**
 * The one place the LXC provider touches LXD: the provider-neutral HTTP-over-Unix-socket client
 * (../unixHttp.ts), speaking as LXD (its `{"error": …}` bodies, its socket's failure hints), and
 * LXD's asynchronous operations awaited to their end, a failure carried whole in LXD's words.
 */
import { AgentError } from '../../errors';
import {
  HttpStatusError,
  jsonErrorText,
  UnixHttpClient,
  type HttpCall,
  type SendOptions,
  type UnixHttpApi,
} from '../unixHttp';
import { lxdCalls } from './api';
import { lxdApiDescription } from './detect';
import { asyncOperation, parseOperation, type OperationOutcome } from './parse';

export { HttpStatusError as LxdHttpError } from '../unixHttp';

const LXD_API: UnixHttpApi = {
  name: 'LXD',
  host: 'lxd',
  provider: 'lxc',
  socket: lxdApiDescription,
  errorText: (body) => jsonErrorText(body, 'error'),
};

/** One wait call's bound: long operations are waited on in slices, so a dead daemon is noticed. */
const WAIT_SLICE_S = 30;

export class LxdClient extends UnixHttpClient {
  constructor(socketPath: string, defaultTimeoutMs?: number) {
    super(LXD_API, socketPath, defaultTimeoutMs);
  }

  /** Starts an asynchronous call; undefined when it answered 404 (the instance is gone). */
  async start(
    call: HttpCall,
    opts: SendOptions = {},
  ): Promise<{ path: string; metadata: Record<string, unknown> } | undefined> {
    const r = await this.json(call, opts);
    if (r.status === 404) return undefined;
    return asyncOperation(r.value, call.what);
  }

  /** Waits for an operation to end (at most `timeoutMs`), with its outcome; `onProgress` gets its metadata each second. */
  async wait(
    path: string,
    timeoutMs: number,
    signal?: AbortSignal,
    onProgress?: (metadata: Record<string, unknown>) => void,
  ): Promise<OperationOutcome> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
      const slice = Math.min(onProgress ? 1 : WAIT_SLICE_S, left);
      const r = await this.json(lxdCalls.operationWait(path, slice), {
        timeoutMs: (slice + 15) * 1000,
        ...(signal ? { signal } : {}),
      });
      if (r.status === 404)
        return { running: false, metadata: {}, error: 'LXD forgot the operation (was it restarted?)' };
      const outcome = parseOperation(r.value);
      if (!outcome.running || Date.now() >= deadline) return outcome;
      onProgress?.(outcome.metadata);
    }
  }

  /**
   * Runs an asynchronous call to its end: resolves with the operation's metadata, rejects with
   * LXD's own words when it fails (PROVIDER_ERROR), or undefined for a 404.
   */
  async operation(
    call: HttpCall,
    timeoutMs: number,
    opts: SendOptions = {},
    onProgress?: (metadata: Record<string, unknown>) => void,
  ): Promise<Record<string, unknown> | undefined> {
    const op = await this.start(call, opts);
    if (!op) return undefined;
    const outcome = await this.wait(op.path, timeoutMs, opts.signal, onProgress);
    if (outcome.running) {
      await this.send(lxdCalls.operationCancel(op.path)).catch(() => undefined);
      throw new AgentError('PROVIDER_ERROR', `LXD could not ${call.what} within ${Math.round(timeoutMs / 1000)} s`, {
        provider: 'lxc',
        hint: 'LXD may be busy or stuck; see its log on the node (lxd.log in its folder).',
      });
    }
    if (outcome.error !== undefined) throw new LxdOperationError(call, outcome.error);
    return outcome.metadata;
  }
}

/** An operation that ran and failed: LXD's `err`, whole. */
export class LxdOperationError extends Error {
  constructor(
    readonly call: HttpCall,
    readonly lxdMessage: string,
  ) {
    super(`LXD could not ${call.what}: ${lxdMessage}`);
    this.name = 'LxdOperationError';
  }
}

export const isLxdFailure = (err: unknown): err is HttpStatusError | LxdOperationError =>
  err instanceof HttpStatusError || err instanceof LxdOperationError;
