/**
 * The one place the Docker provider touches the engine: plain HTTP/1.1 over its Unix socket
 * (node:http with socketPath). Calls are described elsewhere (api.ts) as data; this runs them,
 * bounds them in time and size, and turns transport failures into errors a person can act on.
 */
import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { AgentError, errnoCode } from '../../errors';
import { socketFailure } from '../socketErrors';
import { dockerApiDescription } from './detect';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';

/** One Engine API call as data: what to send, and which statuses count as an answer. */
export interface EngineCall {
  method: HttpMethod;
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as application/json. */
  json?: unknown;
  /** Statuses handed back to the caller; any other is an EngineHttpError. */
  accept: number[];
  /** Names the call in error messages ("create the container"). */
  what: string;
}

export interface EngineReply {
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
  /** For calls answered as a stream (build, logs, exec output). */
  onChunk?: (chunk: Buffer) => void;
}

/** The engine answered with a status the call does not accept. */
export class EngineHttpError extends Error {
  constructor(readonly call: EngineCall, readonly status: number, readonly engineMessage: string) {
    super(`Docker could not ${call.what}: ${engineMessage || `HTTP ${status}`}`);
    this.name = 'EngineHttpError';
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_BODY = 16 * 1024 * 1024;

export function pathWithQuery(call: Pick<EngineCall, 'path' | 'query'>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) q.append(k, String(v));
  const s = q.toString();
  return s ? `${call.path}?${s}` : call.path;
}

/** The engine's `{"message": "…"}` error body, or the raw text. */
export function engineMessage(body: Buffer | string): string {
  const text = body.toString().trim();
  try {
    const v = JSON.parse(text) as { message?: unknown };
    if (typeof v.message === 'string') return v.message;
  } catch {
    // not JSON
  }
  return text.slice(0, 500);
}

export class EngineClient {
  constructor(readonly socketPath: string, private readonly defaultTimeoutMs = DEFAULT_TIMEOUT_MS) {}

  /** Runs a call; resolves with accepted replies, rejects with EngineHttpError or an AgentError. */
  async send(call: EngineCall, opts: SendOptions = {}): Promise<EngineReply> {
    const { res, req } = await this.open(call, opts);
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
        if (size > maxBody) throw new AgentError('PROVIDER_ERROR', `Docker's answer to "${call.what}" is larger than ${maxBody} bytes`, { provider: 'docker' });
        chunks.push(c);
      }
    } catch (err) {
      throw this.transportError(call, err, opts.timeoutMs);
    } finally {
      req.destroy();
    }
    const status = res.statusCode ?? 0;
    const body = Buffer.concat(chunks);
    if (!call.accept.includes(status)) throw new EngineHttpError(call, status, engineMessage(body));
    return { status, headers: res.headers, body };
  }

  /** send() and JSON.parse of the body. */
  async json(call: EngineCall, opts: SendOptions = {}): Promise<{ status: number; value: unknown }> {
    const r = await this.send(call, opts);
    if (r.body.length === 0) return { status: r.status, value: undefined };
    try {
      return { status: r.status, value: JSON.parse(r.body.toString('utf8')) };
    } catch (err) {
      throw new AgentError('PROVIDER_ERROR', `Docker's answer to "${call.what}" is not JSON`, { provider: 'docker', cause: err });
    }
  }

  /**
   * A call whose connection becomes a raw byte stream (exec start with stdin): asks for an
   * HTTP upgrade, and hands back the socket once the engine switches protocols.
   */
  hijack(call: EngineCall, timeoutMs = this.defaultTimeoutMs): Promise<{ socket: Socket; head: Buffer; headers: IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
      const payload = call.json === undefined ? undefined : Buffer.from(JSON.stringify(call.json));
      const req = request({
        socketPath: this.socketPath,
        method: call.method,
        path: pathWithQuery(call),
        headers: {
          Host: 'docker',
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
          reject(new EngineHttpError(call, res.statusCode ?? 0, engineMessage(Buffer.concat(chunks))));
        });
      });
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(this.transportError(call, err, timeoutMs));
      });
      req.end(payload);
    });
  }

  private open(call: EngineCall, opts: SendOptions): Promise<{ res: IncomingMessage; req: ReturnType<typeof request> }> {
    const timeoutMs = opts.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      const payload = call.json === undefined ? undefined : Buffer.from(JSON.stringify(call.json));
      const headers: Record<string, string | number> = { Host: 'docker' };
      if (payload) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = payload.length;
      } else if (opts.body) {
        headers['Content-Type'] = opts.contentType ?? 'application/x-tar';
        if (Buffer.isBuffer(opts.body)) headers['Content-Length'] = opts.body.length;
      }
      const req = request({ socketPath: this.socketPath, method: call.method, path: pathWithQuery(call), headers });
      // The whole exchange, body included, must finish in time; a hung engine is not waited on forever.
      req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
      req.once('response', (res) => resolve({ res, req }));
      req.once('error', (err) => reject(this.transportError(call, err, timeoutMs)));
      if (payload) req.end(payload);
      else if (Buffer.isBuffer(opts.body)) req.end(opts.body);
      else if (opts.body) {
        const src = Readable.from(opts.body);
        src.on('error', (err) => req.destroy(err));
        src.pipe(req);
      } else req.end();
    });
  }

  private transportError(call: EngineCall, err: unknown, timeoutMs?: number): AgentError | EngineHttpError {
    if (err instanceof AgentError || err instanceof EngineHttpError) return err;
    const code = errnoCode(err) ?? 'EIO';
    const f = socketFailure(dockerApiDescription, this.socketPath, { ok: false, code, message: (err as Error).message }, timeoutMs ?? this.defaultTimeoutMs);
    const unreachable = ['ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM'].includes(code);
    return new AgentError(unreachable ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_ERROR', `Docker could not ${call.what}: ${f.error}`, {
      provider: 'docker',
      hint: f.hint,
      cause: err,
    });
  }
}
