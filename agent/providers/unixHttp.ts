/**
 * HTTP/1.1 over a Unix socket (node:http with socketPath), for the providers whose daemon speaks
 * a REST API there (the Docker engine; LXD/Incus). Calls are described elsewhere as data; this
 * runs them, bounds them in time and size, and turns transport failures into errors a person can
 * act on, in the words of the API it was made for (UnixHttpApi).
 */
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { AgentError, errnoCode } from '../errors';
import type { ProviderName } from '../protocol';
import { socketFailure, type SocketApi } from './socketErrors';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who answers on the socket, for the Host header and for error messages. */
export interface UnixHttpApi {
  /** Names the daemon in messages ("Docker could not …"). */
  name: string;
  /** The Host header (the daemons ignore it, HTTP/1.1 requires one). */
  host: string;
  provider: ProviderName;
  socket: SocketApi;
  /** The daemon's own words in an error body. */
  errorText(body: Buffer): string;
}

/** One API call as data: what to send, and which statuses count as an answer. */
export interface HttpCall {
  method: HttpMethod;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as application/json. */
  json?: unknown;
  /** Extra request headers (the engine's X-Registry-Auth). */
  headers?: Record<string, string>;
  /** Statuses handed back to the caller; any other is an HttpStatusError. */
  accept: number[];
  /** Names the call in error messages ("create the container"). */
  what: string;
}

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SendOptions {
  /** A raw body (tar) instead of `json`. */
  body?: Buffer | AsyncIterable<Buffer>;
  contentType?: string;
  timeoutMs?: number;
  maxBody?: number;
  /** Cancels the call (the connection is closed): it rejects at once, saying it was cancelled. */
  signal?: AbortSignal;
  /** For calls answered as a stream (build, logs, exec output). */
  onChunk?: (chunk: Buffer) => void;
  /** Told when an accepted status arrived, before any of the body (a stream is subscribed). */
  onResponse?: () => void;
  /** A long-lived watch: no idle timeout, and its socket keeps no process alive. */
  background?: boolean;
}

/** The daemon answered with a status the call does not accept. */
export class HttpStatusError extends Error {
  constructor(
    api: UnixHttpApi,
    readonly call: HttpCall,
    readonly status: number,
    readonly daemonMessage: string,
  ) {
    super(`${api.name} could not ${call.what}: ${daemonMessage || `HTTP ${status}`}`);
    this.name = 'HttpStatusError';
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_BODY = 16 * 1024 * 1024;

export function pathWithQuery(call: Pick<HttpCall, 'path' | 'query'>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) q.append(k, String(v));
  const s = q.toString();
  return s ? `${call.path}?${s}` : call.path;
}

/** The string in a JSON error body's `field` (`message` for Docker, `error` for LXD), or the raw text. */
export function jsonErrorText(body: Buffer | string, field: string): string {
  const text = body.toString().trim();
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    const said = v[field];
    if (typeof said === 'string') return said;
  } catch {
    // not JSON
  }
  return text.slice(0, 500);
}

export class UnixHttpClient {
  constructor(
    private readonly api: UnixHttpApi,
    readonly socketPath: string,
    private readonly defaultTimeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  /** Runs a call; resolves with accepted replies, rejects with HttpStatusError or an AgentError. */
  async send(call: HttpCall, opts: SendOptions = {}): Promise<HttpReply> {
    const { res, req } = await this.open(call, opts);
    if (opts.onResponse && call.accept.includes(res.statusCode ?? 0)) opts.onResponse();
    const maxBody = opts.maxBody ?? DEFAULT_MAX_BODY;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const c of res as AsyncIterable<Buffer>) {
        if (opts.onChunk && call.accept.includes(res.statusCode ?? 0)) {
          opts.onChunk(c);
          continue;
        }
        size += c.length;
        if (size > maxBody)
          throw new AgentError(
            'PROVIDER_ERROR',
            `${this.api.name}'s answer to "${call.what}" is larger than ${maxBody} bytes`,
            { provider: this.api.provider },
          );
        chunks.push(c);
      }
    } catch (err) {
      throw this.transportError(call, err, opts.timeoutMs, opts.signal);
    } finally {
      req.destroy();
    }
    const status = res.statusCode ?? 0;
    const body = Buffer.concat(chunks);
    if (!call.accept.includes(status)) throw new HttpStatusError(this.api, call, status, this.api.errorText(body));
    return { status, headers: res.headers, body };
  }

  /** send() and JSON.parse of the body. */
  async json(call: HttpCall, opts: SendOptions = {}): Promise<{ status: number; value: unknown }> {
    const r = await this.send(call, opts);
    if (r.body.length === 0) return { status: r.status, value: undefined };
    try {
      return { status: r.status, value: JSON.parse(r.body.toString('utf8')) };
    } catch (err) {
      throw new AgentError('PROVIDER_ERROR', `${this.api.name}'s answer to "${call.what}" is not JSON`, {
        provider: this.api.provider,
        cause: err,
      });
    }
  }

  /**
   * A call whose connection becomes a raw byte stream (exec start with stdin): asks for an
   * HTTP upgrade, and hands back the socket once the daemon switches protocols.
   */
  hijack(
    call: HttpCall,
    timeoutMs = this.defaultTimeoutMs,
  ): Promise<{ socket: Socket; head: Buffer; headers: IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const payload = call.json === undefined ? undefined : Buffer.from(JSON.stringify(call.json));
      const req = request({
        socketPath: this.socketPath,
        method: call.method,
        path: pathWithQuery(call),
        headers: {
          Host: this.api.host,
          Connection: 'Upgrade',
          Upgrade: 'tcp',
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length } : {}),
        },
      });
      const timer = setTimeout(() => {
        req.destroy();
        reject(this.transportError(call, Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }), timeoutMs));
      }, timeoutMs);
      req.on('upgrade', (res: IncomingMessage, socket: Socket, head: Buffer) => {
        clearTimeout(timer);
        resolve({ socket, head, headers: res.headers });
      });
      req.on('response', (res: IncomingMessage) => {
        // Not upgraded: an error status with a JSON body.
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          reject(new HttpStatusError(this.api, call, res.statusCode ?? 0, this.api.errorText(Buffer.concat(chunks))));
        });
      });
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(this.transportError(call, err, timeoutMs));
      });
      req.end(payload);
    });
  }

  private open(call: HttpCall, opts: SendOptions): Promise<{ res: IncomingMessage; req: ReturnType<typeof request> }> {
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      const payload = call.json === undefined ? undefined : Buffer.from(JSON.stringify(call.json));
      const headers: Record<string, string | number> = { ...call.headers, Host: this.api.host };
      if (payload) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = payload.length;
      } else if (opts.body) {
        headers['Content-Type'] = opts.contentType ?? 'application/x-tar';
        if (Buffer.isBuffer(opts.body)) headers['Content-Length'] = opts.body.length;
      }
      const req = request({
        socketPath: this.socketPath,
        method: call.method,
        path: pathWithQuery(call),
        headers,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      // The whole exchange, body included, must finish in time; a hung daemon is not waited on forever.
      if (opts.background) req.once('socket', (s) => s.unref());
      else
        req.setTimeout(timeoutMs, () =>
          req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })),
        );
      req.once('response', (res) => resolve({ res, req }));
      req.once('error', (err) => reject(this.transportError(call, err, timeoutMs, opts.signal)));
      if (payload) req.end(payload);
      else if (Buffer.isBuffer(opts.body)) req.end(opts.body);
      else if (opts.body) {
        const src = Readable.from(opts.body);
        src.on('error', (err) => req.destroy(err));
        src.pipe(req);
      } else req.end();
    });
  }

  private transportError(
    call: HttpCall,
    err: unknown,
    timeoutMs?: number,
    signal?: AbortSignal,
  ): AgentError | HttpStatusError {
    if (err instanceof AgentError || err instanceof HttpStatusError) return err;
    if (signal?.aborted)
      return new AgentError('PROVIDER_ERROR', `${this.api.name} was asked to ${call.what}, and that was cancelled`, {
        provider: this.api.provider,
        cause: err,
      });
    const code = errnoCode(err) ?? 'EIO';
    const f = socketFailure(
      this.api.socket,
      this.socketPath,
      { ok: false, code, message: (err as Error).message },
      timeoutMs ?? this.defaultTimeoutMs,
    );
    const unreachable = ['ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM'].includes(code);
    return new AgentError(
      unreachable ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_ERROR',
      `${this.api.name} could not ${call.what}: ${f.error}`,
      {
        provider: this.api.provider,
        hint: f.hint,
        cause: err,
      },
    );
  }
}
