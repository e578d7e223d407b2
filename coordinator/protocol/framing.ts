/**
 * The wire framing of every coordinator connection (clients ⇄ coordinator, coordinator ⇄ agent):
 * JSON-RPC messages as `Content-Length: N\r\n\r\n<N bytes of UTF-8 JSON>`, exactly what
 * vscode-jsonrpc's stream reader and writer speak, with less work per message. Its writer sends
 * header and body as two writes an event-loop turn apart (two packets, two wake-ups of the peer);
 * its reader copies every chunk into its own buffer, creates a TextDecoder per message and hands
 * each message over through a promise lock. A pooled request crosses four of these ends, so they
 * were a large share of its round trip. (The agent keeps its own writer: it imports nothing from
 * the coordinator.)
 */
import type { Readable, Writable } from 'node:stream';
import { AbstractMessageReader, AbstractMessageWriter, type DataCallback, type Disposable, type Message, type MessageReader, type MessageWriter } from 'vscode-jsonrpc';

/** `Content-Length: N\r\n\r\n<N bytes of JSON>` in one buffer. */
export function frameMessage(msg: Message): Buffer {
  const json = JSON.stringify(msg);
  const bodyBytes = Buffer.byteLength(json, 'utf8');
  const header = `Content-Length: ${bodyBytes}\r\n\r\n`;
  const frame = Buffer.allocUnsafe(header.length + bodyBytes);
  frame.write(header, 0, 'latin1');
  frame.write(json, header.length, 'utf8');
  return frame;
}

export interface FrameWriterOptions {
  /**
   * Bytes the peer may leave unread (queued in this process, beyond what the kernel buffers): a
   * message written while more than this waits is not queued, and `onBacklog` is told instead.
   * Bounds what a peer that stops reading (a paused `logs -f`) can make us hold: this plus one message.
   */
  maxBacklogBytes?: number;
  onBacklog?: (queuedBytes: number) => void;
}

/** Sends each message as one write; writes are synchronous and in call order, so no lock is needed. */
export class FrameWriter extends AbstractMessageWriter implements MessageWriter {
  constructor(
    private readonly out: Writable,
    private readonly opts: FrameWriterOptions = {},
  ) {
    super();
    out.on('error', (err: Error) => this.fireError(err));
    out.on('close', () => this.fireClose());
  }

  write(msg: Message): Promise<void> {
    let frame: Buffer;
    try {
      frame = frameMessage(msg);
    } catch (err) {
      this.fireError(err, msg);
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.out.destroyed || this.out.writableEnded) return Promise.reject(new Error('the stream is closed'));
    const max = this.opts.maxBacklogBytes;
    if (max !== undefined && this.out.writableLength > max) {
      this.opts.onBacklog?.(this.out.writableLength);
      return Promise.reject(new Error(`the peer left more than ${max} bytes unread`));
    }
    return new Promise((resolve, reject) => {
      this.out.write(frame, (err) => (err ? reject(err) : resolve()));
    });
  }

  end(): void {
    this.out.end();
  }
}

const HEADER_END = Buffer.from('\r\n\r\n');
const LENGTH_HEADER = 'Content-Length: ';
/** A header is a line or two; bytes that never end one are not a message. */
export const MAX_HEADER_BYTES = 64 * 1024;

/** The body length a header block announces, or why it announces none (vscode-jsonrpc's wording). */
export function contentLengthOf(header: string): number | Error {
  // The one line our writers (and vscode-jsonrpc's, without a Content-Type) send: no split needed.
  const digits = header.slice(LENGTH_HEADER.length);
  if (header.startsWith(LENGTH_HEADER) && /^\d{1,15}$/.test(digits)) return Number(digits);
  let value: string | undefined;
  for (const line of header.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) return new Error("Message header must separate key and value using ':'");
    if (line.slice(0, colon).trim().toLowerCase() === 'content-length') value = line.slice(colon + 1).trim();
  }
  if (value === undefined) return new Error(`Header must provide a Content-Length property.\n${JSON.stringify(header)}`);
  const length = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(length)) return new Error(`Content-Length value must be a number. Got ${value}`);
  return length;
}

/** A header announced a message larger than the reader takes. */
export class MessageTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`a message of ${bytes} bytes, over the limit of ${limit} bytes`);
  }
}

/**
 * Reads frames as they arrive and hands each parsed message to the connection at once, in order.
 * A broken header is reported once and ends reading (the byte stream cannot be resynchronized);
 * a well-framed body that is not JSON is reported and skipped. The owner may cap one message's size
 * (`maxBodyBytes`); stalled input and invalid JSON-RPC are the owner's policy, not the framing's.
 */
export class FrameReader extends AbstractMessageReader implements MessageReader {
  /** Bytes of an incomplete header. */
  private head: Buffer | undefined;
  /** Body chunks of the message being read, and their total. */
  private body: Buffer[] = [];
  private bodyBytes = 0;
  /** -1 while reading a header. */
  private expected = -1;
  private broken = false;

  /**
   * `observe` sees every message first (the agent session counts the answers it got).
   * `maxBodyBytes`: a header announcing a larger message is an error that ends reading, before
   * any of its body is buffered.
   */
  constructor(
    private readonly input: Readable,
    private readonly observe?: (message: Message) => void,
    private readonly maxBodyBytes?: number,
  ) {
    super();
  }

  /** Part of a message has arrived and the rest has not (yet). */
  get midMessage(): boolean {
    return !this.broken && (this.head !== undefined || this.expected >= 0);
  }

  listen(callback: DataCallback): Disposable {
    const onData = (chunk: Buffer) => this.consume(chunk, callback);
    const onError = (err: Error) => this.fireError(err);
    const onClose = () => this.fireClose();
    this.input.on('data', onData);
    this.input.on('error', onError);
    this.input.on('close', onClose);
    return {
      dispose: () => {
        this.input.off('data', onData);
        this.input.off('error', onError);
        this.input.off('close', onClose);
      },
    };
  }

  private consume(chunk: Buffer, callback: DataCallback): void {
    let rest = chunk;
    while (rest.length > 0 && !this.broken) {
      if (this.expected < 0) {
        const joined = this.head ? Buffer.concat([this.head, rest]) : rest;
        const end = joined.indexOf(HEADER_END);
        if (end < 0) {
          if (joined.length > MAX_HEADER_BYTES) {
            this.broken = true;
            this.head = undefined;
            this.fireError(new Error(`No end of a message header in the first ${MAX_HEADER_BYTES} bytes`));
            return;
          }
          this.head = Buffer.from(joined); // a copy: the chunk's memory may be reused
          return;
        }
        this.head = undefined;
        const length = contentLengthOf(joined.toString('latin1', 0, end));
        if (length instanceof Error) {
          this.broken = true;
          this.fireError(length);
          return;
        }
        if (this.maxBodyBytes !== undefined && length > this.maxBodyBytes) {
          this.broken = true;
          this.fireError(new MessageTooLargeError(length, this.maxBodyBytes));
          return;
        }
        this.expected = length;
        rest = joined.subarray(end + HEADER_END.length);
      }
      const take = Math.min(this.expected - this.bodyBytes, rest.length);
      this.body.push(rest.subarray(0, take));
      this.bodyBytes += take;
      rest = rest.subarray(take);
      if (this.bodyBytes === this.expected) this.deliver(callback);
    }
  }

  private deliver(callback: DataCallback): void {
    const body = this.body.length === 1 ? this.body[0]! : Buffer.concat(this.body, this.bodyBytes);
    this.body = [];
    this.bodyBytes = 0;
    this.expected = -1;
    let message: Message;
    try {
      message = JSON.parse(body.toString('utf8')) as Message;
    } catch (err) {
      this.fireError(err);
      return;
    }
    this.observe?.(message);
    callback(message);
  }
}
