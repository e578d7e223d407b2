/**
 * A MessageReader in front of vscode-jsonrpc's socket reader that lets through only well-formed
 * JSON-RPC 2.0 messages; anything else is reported to `onInvalid` (the server answers it with an
 * error) instead of being logged and dropped deep inside the connection.
 */
import type { DataCallback, Disposable, Event, Message, MessageReader, PartialMessageInfo } from 'vscode-jsonrpc';

export class GuardedReader implements MessageReader {
  constructor(
    private readonly inner: MessageReader,
    private readonly onInvalid: (message: unknown, why: string) => void,
    /** Called for every complete message, valid or not: the framing is intact. */
    private readonly onMessage: () => void = () => undefined,
  ) {}

  get onError(): Event<Error> {
    return this.inner.onError;
  }
  get onClose(): Event<void> {
    return this.inner.onClose;
  }
  get onPartialMessage(): Event<PartialMessageInfo> {
    return this.inner.onPartialMessage;
  }

  listen(callback: DataCallback): Disposable {
    return this.inner.listen((message) => {
      this.onMessage();
      const why = whyInvalid(message);
      if (why === undefined) callback(message);
      else this.onInvalid(message, why);
    });
  }

  dispose(): void {
    this.inner.dispose();
  }
}

/** undefined when `m` is a JSON-RPC 2.0 request, notification or response. */
export function whyInvalid(m: unknown): string | undefined {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return 'a message must be a JSON object (batches are not supported)';
  const msg = m as Message & Record<string, unknown>;
  if (msg.jsonrpc !== '2.0') return 'the "jsonrpc" member must be "2.0"';
  const id = msg.id;
  const idOk = id === undefined || id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
  if (!idOk) return 'the "id" member must be a string or a number';
  if ('method' in msg) {
    if (typeof msg.method !== 'string' || msg.method.length === 0) return 'the "method" member must be a non-empty string';
    const params = msg.params;
    if (params !== undefined && (typeof params !== 'object' || params === null)) return 'the "params" member must be an object or an array';
    return undefined;
  }
  if (id !== undefined && ('result' in msg || 'error' in msg)) return undefined;
  return 'a message needs a "method" (request or notification) or a "result"/"error" (response)';
}
