/**
 * A vscode-jsonrpc MessageWriter that sends each message as one write, header and body in one
 * buffer. vscode-jsonrpc's stream writer writes the header, waits for that write's callback (an
 * event-loop turn), then the body: two packets and two wake-ups of each process on the way per
 * message, which was most of a pooled request's round trip. Writes are synchronous and in call
 * order, so no lock is needed to keep messages whole.
 */
import type { Writable } from 'node:stream';
import { AbstractMessageWriter, type Message, type MessageWriter } from 'vscode-jsonrpc';

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
   * Bounds what a peer that stops reading can make us hold: this plus one message.
   */
  maxBacklogBytes?: number;
  onBacklog?: (queuedBytes: number) => void;
}

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
