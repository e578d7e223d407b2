/**
 * vscode-jsonrpc's MessageReader fed by a FrameGuard in `emitParsed` mode: the guard has framed
 * and parsed every message already, so it is handed over as it is — no second framing, no second
 * JSON.parse, no extra event-loop turn per message.
 */
import { AbstractMessageReader, type DataCallback, type Disposable, type Message, type MessageReader } from 'vscode-jsonrpc';
import type { FrameGuard } from './frameGuard';

export class GuardMessageReader extends AbstractMessageReader implements MessageReader {
  private callback: DataCallback | undefined;
  /** Messages that arrived before listen(). */
  private readonly early: Message[] = [];

  constructor(guard: FrameGuard) {
    super();
    guard.on('message', (m: Message) => {
      if (this.callback) this.callback(m);
      else this.early.push(m);
    });
    guard.on('error', (err: Error) => this.fireError(err));
    guard.on('close', () => this.fireClose());
    // Nothing reads its byte side: let it flow, so its end (and then its close) comes about.
    guard.resume();
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    for (const m of this.early.splice(0)) callback(m);
    return { dispose: () => (this.callback = undefined) };
  }
}
