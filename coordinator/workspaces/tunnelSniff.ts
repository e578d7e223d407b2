/**
 * Tells the two kinds of connection to coordinator.sock apart by their first bytes: JSON-RPC
 * frames start with `Content-Length:`, tunnels with `VENDETTA-TUNNEL <token>\n`. Whatever was
 * read for the decision is pushed back, so the JSON-RPC reader sees the stream untouched.
 */
import type { Socket } from 'node:net';
import { TUNNEL_PREAMBLE } from '../protocol';

const PREAMBLE = Buffer.from(TUNNEL_PREAMBLE);
const MAX_LINE = 256;
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

export interface SniffHandlers {
  rpc(): void;
  tunnel(token: string): void;
}

export function sniffConnection(socket: Socket, handlers: SniffHandlers, timeoutMs = 10_000): void {
  let buf: Buffer = Buffer.alloc(0);
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    socket.off('data', onData);
    socket.off('end', onEnd);
    clearTimeout(timer);
  };
  const onEnd = () => {
    stop();
    socket.destroy();
  };
  const onData = (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    const n = Math.min(buf.length, PREAMBLE.length);
    if (!buf.subarray(0, n).equals(PREAMBLE.subarray(0, n))) {
      stop();
      socket.pause();
      socket.unshift(buf);
      handlers.rpc();
      socket.resume();
      return;
    }
    const nl = buf.indexOf(10);
    if (nl < 0) {
      if (buf.length > MAX_LINE) {
        stop();
        socket.destroy();
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(onEnd, timeoutMs);
      timer.unref();
      return;
    }
    stop();
    socket.pause();
    const token = buf.subarray(PREAMBLE.length, nl).toString('latin1').replace(/\r$/, '');
    const rest = buf.subarray(nl + 1);
    if (rest.length) socket.unshift(rest);
    if (!TOKEN.test(token)) {
      socket.destroy();
      return;
    }
    handlers.tunnel(token);
  };
  socket.on('data', onData);
  socket.on('end', onEnd);
}
