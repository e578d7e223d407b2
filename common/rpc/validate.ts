/**
 * Whether a parsed message is JSON-RPC 2.0 as vscode-jsonrpc can handle it: one object (no batches),
 * a request, a notification or a response. What fails is answered by the connection's owner, with the
 * id when the message has a usable one, instead of being logged and dropped inside vscode-jsonrpc.
 */

export type MessageVerdict =
  | { ok: true; request: boolean }
  | { ok: false; message: string; id: string | number | null };

export function checkMessage(msg: unknown): MessageVerdict {
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
    const what = Array.isArray(msg)
      ? 'a batch (array), which is not accepted'
      : `a JSON ${msg === null ? 'null' : typeof msg}`;
    return { ok: false, message: `a message must be a JSON-RPC 2.0 object, got ${what}`, id: null };
  }
  const m = msg as Record<string, unknown>;
  const idOk = typeof m.id === 'string' || (typeof m.id === 'number' && Number.isFinite(m.id));
  const id = idOk ? (m.id as string | number) : null;
  if (m.jsonrpc !== '2.0') return { ok: false, message: 'a message must have "jsonrpc": "2.0"', id };
  if ('method' in m) {
    if (typeof m.method !== 'string' || m.method.length === 0)
      return { ok: false, message: '"method" must be a non-empty string', id };
    if ('id' in m && !idOk) return { ok: false, message: 'a request id must be a string or a number', id: null };
    if (m.params !== undefined && (m.params === null || typeof m.params !== 'object'))
      return { ok: false, message: 'params must be an object or an array', id };
    return { ok: true, request: 'id' in m };
  }
  if ('id' in m && (idOk || m.id === null) && ('result' in m || 'error' in m)) return { ok: true, request: false };
  return { ok: false, message: 'a message must be a request, a notification or a response', id };
}
