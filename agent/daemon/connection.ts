/**
 * One client of the daemon: a vscode-jsonrpc connection over its socket, read by common/rpc's
 * FrameReader with the default limits (the coordinator reaches the agent over SSH).
 * Whatever the client sends, only this connection suffers: errors are answered or end this
 * socket, never the daemon.
 */
import type { Socket } from 'node:net';
import {
  createMessageConnection,
  type CancellationToken,
  type Message,
  type NotificationType,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import { AgentError, toAgentError } from '../errors';
import type { DaemonContext, HandlerTable, SessionState } from './context';
import { dispatch } from './dispatch';
import { FrameReader, type FrameViolation } from '../../common/rpc/frameReader';
import { FrameWriter } from '../../common/rpc/frameWriter';

/** A client that does not read its answers is cut off rather than buffered without end. */
const MAX_PENDING_OUTPUT = 64 * 1024 * 1024;
/** How long an ending connection may take to flush before it is destroyed. */
const END_GRACE_MS = 2_000;
/** How long an ending connection waits for its last answers (a handler that never returns). */
const END_WAIT_MS = 30_000;

export class ClientConnection {
  private readonly connection: MessageConnection;
  private readonly writer: FrameWriter;
  private readonly session: SessionState;
  private inflight = 0;
  private ending = false;
  private readonly idleWaiters: Array<() => void> = [];
  private readonly closeListeners: Array<() => void> = [];
  closed = false;

  constructor(
    private readonly socket: Socket,
    readonly id: number,
    private readonly daemon: DaemonContext,
    handlers: HandlerTable,
  ) {
    this.session = { connectionId: id, initialized: false };
    const reader = new FrameReader(socket, {
      onViolation: (v) => this.onViolation(v),
      // Counted here, before vscode-jsonrpc queues it: a client that half-closes right after
      // sending must still get every answer.
      observe: (_m, isRequest) => {
        if (isRequest) this.inflight++;
      },
    });
    const logger = daemon.logger;
    this.writer = new FrameWriter(socket, {
      maxBacklogBytes: MAX_PENDING_OUTPUT,
      onBacklog: () => {
        logger.warn('client does not read its answers; closing', { connection: id });
        socket.destroy();
      },
    });
    this.connection = createMessageConnection(reader, this.trackingWriter(), {
      error: (m) => logger.warn('jsonrpc', { connection: id, detail: m }),
      warn: (m) => logger.warn('jsonrpc', { connection: id, detail: m }),
      info: (m) => logger.debug('jsonrpc', { connection: id, detail: m }),
      log: (m) => logger.debug('jsonrpc', { connection: id, detail: m }),
    });
    this.connection.onRequest(async (method, params, token) => {
      try {
        const notify = <P>(type: NotificationType<P>, p: P): void => {
          if (!this.closed) void this.connection.sendNotification(type.method, p).catch(() => undefined);
        };
        const onConnectionClose = (l: () => void): void => this.onClose(l);
        return await dispatch(handlers, method, params, {
          daemon: this.daemon,
          session: this.session,
          token,
          signal: signalOf(token),
          notify,
          onConnectionClose,
        });
      } catch (err) {
        const e = toAgentError(err);
        if (e.code === 'INTERNAL') logger.error('request failed', { connection: id, method, err: e });
        else logger.info('request refused', { connection: id, method, code: e.code, reason: e.message });
        return e.toResponseError();
      }
    });
    this.connection.onError(([err]) => logger.warn('connection error', { connection: id, err }));
    // The client finished sending: answer what it asked, then close our side too.
    this.connection.onClose(() => this.end('the client closed its side'));
    socket.on('error', (err) => logger.debug('socket error', { connection: id, err }));
    socket.on('close', () => this.onSocketClose());
    this.connection.listen();
  }

  /** A notification to this client, once it has initialized (broadcasts use this). */
  notifyInitialized<P>(type: NotificationType<P>, params: P): void {
    if (!this.closed && this.session.initialized)
      void this.connection.sendNotification(type.method, params).catch(() => undefined);
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Ends the connection once every request in flight has been answered. */
  end(reason: string): void {
    if (this.ending || this.closed) return;
    this.ending = true;
    this.daemon.logger.debug('ending connection', { connection: this.id, reason });
    let ended = false;
    const finish = (): void => {
      if (ended) return;
      ended = true;
      this.socket.end();
      setTimeout(() => this.socket.destroy(), END_GRACE_MS).unref();
    };
    this.whenIdle(finish);
    setTimeout(finish, END_WAIT_MS).unref();
  }

  /** The writer counts answers out so `end` knows when nothing is left in flight. */
  private trackingWriter(): FrameWriter {
    const writer = this.writer;
    const original = writer.write.bind(writer);
    writer.write = async (msg: Message): Promise<void> => {
      try {
        if (!this.socket.destroyed) await original(msg);
      } finally {
        if (isResponse(msg)) this.answered();
      }
    };
    return writer;
  }

  private answered(): void {
    this.inflight = Math.max(0, this.inflight - 1);
    if (this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private whenIdle(fn: () => void): void {
    if (this.inflight === 0) fn();
    else this.idleWaiters.push(fn);
  }

  private onViolation(v: FrameViolation): void {
    const error = new AgentError(v.kind, `The agent could not read a message: ${v.message}`, {
      hint: 'Send JSON-RPC 2.0 messages framed as `Content-Length: N\\r\\n\\r\\n<N bytes of JSON>`.',
    });
    this.daemon.logger.warn('bad message from client', { connection: this.id, fatal: v.fatal, reason: v.message });
    const answer = { jsonrpc: '2.0', id: v.id, error: error.toResponseError().toJson() } as unknown as Message;
    // Counted in like a request, so a connection ending now still sends this answer first.
    this.inflight++;
    const written = this.writer.write(answer).catch(() => undefined);
    if (v.fatal) void written.then(() => this.end('its byte stream cannot be read any further'));
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection.dispose();
    this.daemon.logger.debug('connection closed', { connection: this.id });
    for (const l of this.closeListeners.splice(0)) l();
  }
}

function isResponse(msg: Message): boolean {
  const m = msg as { id?: unknown; method?: unknown };
  return m.id !== undefined && m.method === undefined;
}

/** An AbortSignal that follows the request's cancellation token (`$/cancelRequest`). */
export function signalOf(token: CancellationToken): AbortSignal {
  const abort = new AbortController();
  if (token.isCancellationRequested) abort.abort();
  else token.onCancellationRequested(() => abort.abort());
  return abort.signal;
}
