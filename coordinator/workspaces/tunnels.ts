/**
 * Raw byte tunnels through the coordinator socket, for `vendetta ssh-proxy` and `workspace exec`:
 * `tunnels/open` (JSON-RPC) opens the stream to the workspace's sshd over the node's pooled
 * connection and hands out a one-time token; the client then opens a second connection whose
 * first line is `VENDETTA-TUNNEL <token>`, and from the `VENDETTA-TUNNEL-OK` answer on that
 * socket is a plain pipe. Bulk bytes never pass through JSON-RPC framing.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log';
import { TUNNEL_ERROR, TUNNEL_OK } from '../protocol';

interface Pending {
  stream: Duplex;
  alias: string;
  timer: NodeJS.Timeout;
}

export class TunnelRegistry {
  private readonly pending = new Map<string, Pending>();
  private readonly active = new Set<{ socket: Socket; stream: Duplex }>();

  constructor(
    private readonly log: Logger,
    readonly ttlMs = 30_000,
  ) {}

  get activeCount(): number {
    return this.active.size;
  }

  /** Parks an opened stream until its client connects with the token (or the token expires). */
  register(stream: Duplex, alias: string): { token: string; expiresInMs: number } {
    const token = randomBytes(24).toString('base64url');
    stream.on('error', (err) => this.log.debug('tunnel stream error', { alias, error: err.message }));
    const timer = setTimeout(() => {
      if (this.pending.delete(token)) {
        stream.destroy();
        this.log.info('an unused tunnel expired', { alias });
      }
    }, this.ttlMs);
    timer.unref();
    this.pending.set(token, { stream, alias, timer });
    return { token, expiresInMs: this.ttlMs };
  }

  /** A connection that sent `VENDETTA-TUNNEL <token>`: becomes the pipe, or gets an error line. */
  attach(socket: Socket, token: string): void {
    const p = this.pending.get(token);
    socket.on('error', (err) => this.log.debug('tunnel socket error', { error: err.message }));
    if (!p) {
      const body = {
        code: 'TUNNEL_FAILED',
        message: 'Unknown or expired tunnel token',
        hint: 'Run the command again; a token works once, within seconds of being issued.',
      };
      socket.end(`${TUNNEL_ERROR}${JSON.stringify(body)}\n`);
      return;
    }
    this.pending.delete(token);
    clearTimeout(p.timer);
    const { stream, alias } = p;
    const pair = { socket, stream };
    this.active.add(pair);
    const started = Date.now();
    let bytesIn = 0;
    let bytesOut = 0;
    socket.on('data', (d: Buffer) => (bytesIn += d.length));
    stream.on('data', (d: Buffer) => (bytesOut += d.length));
    socket.write(`${TUNNEL_OK}\n`);
    socket.pipe(stream);
    stream.pipe(socket);
    // Either side gone: let what is buffered flush, then take the other down too.
    stream.once('close', () => {
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
    });
    socket.once('close', () => {
      stream.destroy();
      this.active.delete(pair);
      this.log.debug('tunnel closed', { alias, ms: Date.now() - started, bytesIn, bytesOut });
    });
  }

  close(): void {
    for (const [token, p] of this.pending) {
      clearTimeout(p.timer);
      p.stream.destroy();
      this.pending.delete(token);
    }
    for (const { socket, stream } of this.active) {
      socket.destroy();
      stream.destroy();
    }
    this.active.clear();
  }
}
