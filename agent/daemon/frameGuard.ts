/**
 * Sits between a client's socket and vscode-jsonrpc's StreamMessageReader and lets through only
 * well-framed JSON-RPC 2.0 messages. vscode-jsonrpc waits forever on bytes that never form a
 * header, and reports bad JSON only as a reader error; here each problem becomes a `violation`
 * the connection answers with a JSON-RPC error:
 * - broken framing (not `Header: value` lines, no or bad Content-Length, too large, the stream
 *   ending or stalling mid-message) is fatal: the byte stream cannot be resynchronized;
 * - a well-framed body that is not JSON, or not a JSON-RPC 2.0 message, is dropped and answered,
 *   and the connection goes on.
 */
import { Transform, type TransformCallback } from 'node:stream';

export interface FrameViolation {
  fatal: boolean;
  kind: 'PARSE_ERROR' | 'INVALID_REQUEST';
  message: string;
  /** The request id, when a message parsed far enough to have one. */
  id: string | number | null;
}

export interface FrameGuardOptions {
  maxHeaderBytes?: number;
  maxBodyBytes?: number;
  /** A message left incomplete this long (no new bytes) is abandoned. 0 disables. */
  partialTimeoutMs?: number;
  /**
   * Emit each checked message as a `message` event (already parsed) instead of passing its bytes
   * on: a reader then need not frame and parse it a second time (GuardMessageReader).
   */
  emitParsed?: boolean;
}

const CRLF2 = Buffer.from('\r\n\r\n');
/** RFC 7230 token characters, for header names. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\x20-\x7e\t]*$/;

export class FrameGuard extends Transform {
  private header = Buffer.alloc(0);
  private body: Buffer[] = [];
  private bodyBytes = 0;
  /** -1 while reading a header. */
  private expected = -1;
  private failed = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly maxHeaderBytes: number;
  private readonly maxBodyBytes: number;
  private readonly partialTimeoutMs: number;
  private readonly emitParsed: boolean;

  constructor(opts: FrameGuardOptions = {}) {
    super();
    this.emitParsed = opts.emitParsed === true;
    this.maxHeaderBytes = opts.maxHeaderBytes ?? 8 * 1024;
    this.maxBodyBytes = opts.maxBodyBytes ?? 64 * 1024 * 1024;
    this.partialTimeoutMs = opts.partialTimeoutMs ?? 10_000;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (!this.failed) this.consume(chunk);
    this.armTimer();
    done();
  }

  override _flush(done: TransformCallback): void {
    this.clearTimer();
    if (!this.failed && (this.expected >= 0 || this.header.length > 0)) {
      const got = this.expected >= 0 ? `${this.bodyBytes} of ${this.expected} bytes of its body` : 'part of a header';
      this.fail(`the connection ended in the middle of a message (received ${got})`);
    }
    done();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.clearTimer();
    cb(err);
  }

  private consume(chunk: Buffer): void {
    let rest: Buffer = chunk;
    while (rest.length > 0 && !this.failed) {
      if (this.expected < 0) {
        rest = this.consumeHeader(rest);
      } else {
        const need = this.expected - this.bodyBytes;
        const take = rest.subarray(0, need);
        this.body.push(take);
        this.bodyBytes += take.length;
        rest = rest.subarray(take.length);
        if (this.bodyBytes === this.expected) this.finishMessage();
      }
    }
  }

  /** Appends header bytes; returns what follows the header once it is complete. */
  private consumeHeader(chunk: Buffer): Buffer {
    const joined = this.header.length ? Buffer.concat([this.header, chunk]) : chunk;
    const end = joined.indexOf(CRLF2);
    const headerEnd = end < 0 ? joined.length : end;
    const problem = checkHeaderText(joined.subarray(0, headerEnd).toString('latin1'), end >= 0);
    if (problem) {
      this.fail(problem);
      return Buffer.alloc(0);
    }
    if (end < 0) {
      if (joined.length > this.maxHeaderBytes) this.fail(`a message header is longer than ${this.maxHeaderBytes} bytes`);
      else this.header = Buffer.from(joined);
      return Buffer.alloc(0);
    }
    const length = contentLength(joined.subarray(0, end).toString('latin1'));
    this.header = Buffer.alloc(0);
    if (typeof length === 'string') {
      this.fail(length);
      return Buffer.alloc(0);
    }
    if (length > this.maxBodyBytes) {
      this.fail(`a message of ${length} bytes is larger than the limit of ${this.maxBodyBytes}`);
      return Buffer.alloc(0);
    }
    this.expected = length;
    this.body = [];
    this.bodyBytes = 0;
    const rest = joined.subarray(end + CRLF2.length);
    if (length === 0) this.finishMessage();
    return rest;
  }

  private finishMessage(): void {
    const body = this.body.length === 1 ? this.body[0]! : Buffer.concat(this.body);
    this.expected = -1;
    this.body = [];
    this.bodyBytes = 0;
    const parsed: { message?: unknown } = {};
    const verdict = checkMessage(body, parsed);
    if (!verdict.ok) {
      this.emit('violation', { fatal: false, kind: verdict.kind, message: verdict.message, id: verdict.id } satisfies FrameViolation);
      return;
    }
    // Counted here, before vscode-jsonrpc queues it: a client that half-closes right after
    // sending must still get every answer.
    if (verdict.request) this.emit('request');
    if (this.emitParsed) {
      this.emit('message', parsed.message);
      return;
    }
    // One chunk: the reader behind us handles each chunk in its own event-loop turn.
    const header = `Content-Length: ${body.length}\r\n\r\n`;
    const frame = Buffer.allocUnsafe(header.length + body.length);
    frame.write(header, 0, 'latin1');
    body.copy(frame, header.length);
    this.push(frame);
  }

  private fail(message: string): void {
    this.failed = true;
    this.clearTimer();
    this.header = Buffer.alloc(0);
    this.body = [];
    this.emit('violation', { fatal: true, kind: 'PARSE_ERROR', message, id: null } satisfies FrameViolation);
  }

  /** Restarted on every chunk: only a message that stops making progress times out. */
  private armTimer(): void {
    this.clearTimer();
    const midMessage = this.expected >= 0 || this.header.length > 0;
    if (this.failed || !midMessage || this.partialTimeoutMs <= 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const got = this.expected >= 0 ? `${this.bodyBytes} of ${this.expected} bytes` : 'part of a header';
      this.fail(`a message stayed incomplete for ${this.partialTimeoutMs / 1000} s (received ${got})`);
    }, this.partialTimeoutMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * Checks header text seen so far. While the header is incomplete, the last line may be cut
 * anywhere, so it is only checked for characters that can never appear in a header.
 */
export function checkHeaderText(text: string, complete: boolean): string | undefined {
  const lines = text.split('\r\n');
  const partial = complete ? undefined : lines.pop();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0 || !HEADER_NAME.test(line.slice(0, colon)) || !HEADER_VALUE.test(line.slice(colon + 1))) {
      return `expected a \`Content-Length: N\` header, got ${JSON.stringify(line.slice(0, 60))}`;
    }
  }
  if (partial !== undefined && partial.length > 0) {
    const colon = partial.indexOf(':');
    const name = colon < 0 ? partial.replace(/\r$/, '') : partial.slice(0, colon);
    const ok = (name.length === 0 || HEADER_NAME.test(name)) && (colon < 0 || HEADER_VALUE.test(partial.slice(colon + 1).replace(/\r$/, '')));
    if (!ok) return `expected a \`Content-Length: N\` header, got ${JSON.stringify(partial.slice(0, 60))}`;
  }
  return undefined;
}

/** The Content-Length of a complete header, or what is wrong with it. */
export function contentLength(header: string): number | string {
  let length: number | undefined;
  for (const line of header.split('\r\n')) {
    const colon = line.indexOf(':');
    if (line.slice(0, colon).trim().toLowerCase() !== 'content-length') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d{1,12}$/.test(value)) return `Content-Length must be a number of bytes, got ${JSON.stringify(value.slice(0, 20))}`;
    length = Number(value);
  }
  return length ?? 'a message header has no Content-Length';
}

export type MessageVerdict = { ok: true; request: boolean } | ({ ok: false } & Omit<FrameViolation, 'fatal'>);

/** Whether a complete body is a JSON-RPC 2.0 message (and a request, which needs an answer). */
export function checkMessage(body: Buffer, parsed?: { message?: unknown }): MessageVerdict {
  let msg: unknown;
  try {
    msg = JSON.parse(body.toString('utf8'));
    if (parsed) parsed.message = msg;
  } catch (err) {
    return { ok: false, kind: 'PARSE_ERROR', message: `a message is not valid JSON: ${(err as Error).message}`, id: null };
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
    const what = Array.isArray(msg) ? 'a batch (array), which the agent does not accept' : `a JSON ${msg === null ? 'null' : typeof msg}`;
    return { ok: false, kind: 'INVALID_REQUEST', message: `a message must be a JSON-RPC 2.0 object, got ${what}`, id: null };
  }
  const m = msg as Record<string, unknown>;
  const id = typeof m.id === 'string' || typeof m.id === 'number' ? m.id : null;
  if (m.jsonrpc !== '2.0') return { ok: false, kind: 'INVALID_REQUEST', message: 'a message must have "jsonrpc": "2.0"', id };
  const isCall = typeof m.method === 'string';
  const isResponse = 'id' in m && ('result' in m || 'error' in m);
  if (!isCall && !isResponse) return { ok: false, kind: 'INVALID_REQUEST', message: 'a message must be a request, a notification or a response', id };
  if (isCall && 'id' in m && id === null) {
    return { ok: false, kind: 'INVALID_REQUEST', message: 'a request id must be a string or a number', id: null };
  }
  if (isCall && m.params !== undefined && (m.params === null || typeof m.params !== 'object')) {
    return { ok: false, kind: 'INVALID_REQUEST', message: 'params must be an object or an array', id };
  }
  return { ok: true, request: isCall && 'id' in m };
}
