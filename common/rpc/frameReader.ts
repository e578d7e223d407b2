/**
 * The one reader of `Content-Length: N\r\n\r\n<N bytes of UTF-8 JSON>` frames, for every connection
 * (clients ⇄ coordinator, coordinator ⇄ agent, clients ⇄ agent daemon). It hands each message to
 * vscode-jsonrpc parsed and checked, at once and in order: vscode-jsonrpc's own reader copies every
 * chunk, waits forever on bytes that never form a header, and reports bad JSON only as a log line.
 * - Broken framing (no header, no or a bad Content-Length, over a limit, the stream ending or stalling
 *   mid-message) is fatal: the byte stream cannot be resynchronized, so reading stops.
 * - A well-framed body that is not JSON, or not JSON-RPC 2.0, is reported and reading goes on.
 * The owner gets each problem as a violation to answer (`onViolation`), or else as a reader error.
 */
import type { Readable } from 'node:stream';
import {
  AbstractMessageReader,
  type DataCallback,
  type Disposable,
  type Message,
  type MessageReader,
} from 'vscode-jsonrpc';
import { checkHeaderText, contentLength } from './header';
import { checkMessage } from './validate';

export interface FrameLimits {
  /** A header is a line or two; bytes that never end one are not a message. */
  maxHeaderBytes: number;
  /** A header announcing a larger body is refused before any of it is buffered. */
  maxBodyBytes: number;
  /** A message that gets no new byte for this long is abandoned; 0 never abandons one. */
  partialTimeoutMs: number;
}

/** The limits a connection reads with unless its owner has a reason for others (each says why). */
export const FRAME_LIMITS: Readonly<FrameLimits> = {
  maxHeaderBytes: 8 * 1024,
  // A sync manifest of ~800,000 files: the largest message the coordinator and an agent exchange.
  maxBodyBytes: 64 * 1024 * 1024,
  // A peer over SSH may pause; ten quiet seconds inside one message is a dead or hostile peer.
  partialTimeoutMs: 10_000,
};

export interface FrameViolation {
  fatal: boolean;
  kind: 'PARSE_ERROR' | 'INVALID_REQUEST';
  message: string;
  /** The request id, when a message parsed far enough to have one. */
  id: string | number | null;
  /** Set when a header announced a body over the limit. */
  tooLarge?: { bytes: number; limit: number };
}

/** A violation passed on as a reader error (to an owner that does not take `onViolation`). */
export class FrameError extends Error {
  constructor(readonly violation: FrameViolation) {
    super(violation.message);
    this.name = 'FrameError';
  }
}

export interface FrameReaderOptions {
  limits?: Partial<FrameLimits>;
  /** Sees every valid message before vscode-jsonrpc queues it (to count requests or answers in flight). */
  observe?: (message: Message, isRequest: boolean) => void;
  /** Takes every violation (to answer the peer); without it each becomes a FrameError on `onError`. */
  onViolation?: (violation: FrameViolation) => void;
}

const HEADER_END = Buffer.from('\r\n\r\n');

export class FrameReader extends AbstractMessageReader implements MessageReader {
  private readonly limits: FrameLimits;
  /** Bytes of an incomplete header. */
  private head: Buffer | undefined;
  /** Body chunks of the message being read, and their total. */
  private body: Buffer[] = [];
  private bodyBytes = 0;
  /** -1 while reading a header. */
  private expected = -1;
  private broken = false;
  private closed = false;
  private lastData = 0;
  /** One timer at a time, armed only while part of a message waits: not a timer per message. */
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly input: Readable,
    private readonly opts: FrameReaderOptions = {},
  ) {
    super();
    this.limits = { ...FRAME_LIMITS, ...opts.limits };
  }

  /** Part of a message has arrived and the rest has not (yet). */
  get midMessage(): boolean {
    return !this.broken && (this.head !== undefined || this.expected >= 0);
  }

  listen(callback: DataCallback): Disposable {
    const onData = (chunk: Buffer): void => this.consume(chunk, callback);
    const onError = (err: Error): void => this.fireError(err);
    // The peer finished sending: nothing more can be read (a half-closed socket still takes answers).
    const onEnd = (): void => this.inputEnded();
    const onClose = (): void => this.inputEnded();
    this.input.on('data', onData);
    this.input.on('error', onError);
    this.input.on('end', onEnd);
    this.input.on('close', onClose);
    return {
      dispose: () => {
        this.clearTimer();
        this.input.off('data', onData);
        this.input.off('error', onError);
        this.input.off('end', onEnd);
        this.input.off('close', onClose);
      },
    };
  }

  private consume(chunk: Buffer, callback: DataCallback): void {
    if (this.broken) return;
    let rest = chunk;
    while (rest.length > 0 && !this.broken) {
      if (this.expected < 0) {
        const after = this.consumeHeader(rest);
        if (after === undefined) break;
        rest = after;
        if (this.expected === 0) this.deliver(callback);
        continue;
      }
      const take = Math.min(this.expected - this.bodyBytes, rest.length);
      this.body.push(rest.subarray(0, take));
      this.bodyBytes += take;
      rest = rest.subarray(take);
      if (this.bodyBytes === this.expected) this.deliver(callback);
    }
    this.lastData = Date.now();
    if (this.midMessage && !this.timer && this.limits.partialTimeoutMs > 0) this.arm(this.limits.partialTimeoutMs);
  }

  /** Takes header bytes; returns what follows a complete header, or undefined while it is incomplete. */
  private consumeHeader(chunk: Buffer): Buffer | undefined {
    const joined = this.head ? Buffer.concat([this.head, chunk]) : chunk;
    const end = joined.indexOf(HEADER_END);
    const text = joined.toString('latin1', 0, end < 0 ? joined.length : end);
    const problem = checkHeaderText(text, end >= 0);
    if (problem) return this.fail(problem);
    if (end < 0) {
      if (joined.length > this.limits.maxHeaderBytes)
        return this.fail(`a message header is longer than ${this.limits.maxHeaderBytes} bytes`);
      this.head = Buffer.from(joined); // a copy: the chunk's memory may be reused
      return undefined;
    }
    this.head = undefined;
    const length = contentLength(text);
    if (typeof length === 'string') return this.fail(length);
    const limit = this.limits.maxBodyBytes;
    if (length > limit)
      return this.fail(`a message of ${length} bytes is larger than the limit of ${limit}`, { bytes: length, limit });
    this.expected = length;
    return joined.subarray(end + HEADER_END.length);
  }

  private deliver(callback: DataCallback): void {
    const body = this.body.length === 1 ? this.body[0]! : Buffer.concat(this.body, this.bodyBytes);
    this.body = [];
    this.bodyBytes = 0;
    this.expected = -1;
    let message: unknown;
    try {
      message = JSON.parse(body.toString('utf8'));
    } catch (err) {
      this.report({
        fatal: false,
        kind: 'PARSE_ERROR',
        message: `a message is not valid JSON: ${(err as Error).message}`,
        id: null,
      });
      return;
    }
    const verdict = checkMessage(message);
    if (!verdict.ok) {
      this.report({ fatal: false, kind: 'INVALID_REQUEST', message: verdict.message, id: verdict.id });
      return;
    }
    this.opts.observe?.(message as Message, verdict.request);
    callback(message as Message);
  }

  private fail(message: string, tooLarge?: FrameViolation['tooLarge']): undefined {
    this.broken = true;
    this.head = undefined;
    this.body = [];
    this.clearTimer();
    this.report({ fatal: true, kind: 'PARSE_ERROR', message, id: null, ...(tooLarge ? { tooLarge } : {}) });
    return undefined;
  }

  private report(violation: FrameViolation): void {
    if (this.opts.onViolation) this.opts.onViolation(violation);
    else this.fireError(new FrameError(violation));
  }

  private inputEnded(): void {
    this.clearTimer();
    if (this.midMessage) this.fail(`the connection ended in the middle of a message (received ${this.received()})`);
    if (this.closed) return;
    this.closed = true;
    this.fireClose();
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.midMessage) return;
      const timeout = this.limits.partialTimeoutMs;
      const quiet = Date.now() - this.lastData;
      if (quiet >= timeout)
        this.fail(`a message stayed incomplete for ${timeout / 1000} s (received ${this.received()})`);
      else this.arm(timeout - quiet);
    }, ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private received(): string {
    return this.expected >= 0 ? `${this.bodyBytes} of ${this.expected} bytes of its body` : 'part of a header';
  }
}
