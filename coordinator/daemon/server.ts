/**
 * The coordinator's socket: one JSON-RPC connection per client on `$VENDETTA_HOME/coordinator.sock`
 * (0600 in a 0700 directory). Every client must `initialize` first. A client that sends garbage,
 * a truncated message or an endless header gets an error and is disconnected; the others are
 * not affected.
 */
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import {
  CancellationTokenSource,
  createMessageConnection,
  type CancellationToken,
  type MessageConnection,
  type NotificationType,
} from 'vscode-jsonrpc/node';
import { toVendettaError, VendettaError } from '../errors';
import type { Logger } from '../log';
import { FrameReader, type FrameLimits, type FrameViolation } from '../../common/rpc/frameReader';
import { FrameWriter } from '../../common/rpc/frameWriter';
import { ProgressNotification } from '../protocol';
import { byMethod, progressTokenOf, type ClientHandle, type HandlerTable, type ProgressReporter } from './handlerTable';
import { sniffConnection } from '../workspaces/tunnelSniff';
import { alreadyRunning } from './instanceLock';
import { answers } from './socketProbe';

export interface ServerOptions {
  socketPath: string;
  log: Logger;
  handlers: HandlerTable;
  /** A message that stops arriving half-way for this long gets its client an error and cut off. */
  partialMessageTimeoutMs?: number;
  /**
   * Bytes written to a client and not yet read by it (beyond the kernel's buffer) before it is
   * disconnected: a client that stops reading (a paused `logs -f`) costs at most this, not
   * everything the coordinator would send it.
   */
  maxClientBacklogBytes?: number;
  /**
   * Connections whose first line is `VENDETTA-TUNNEL <token>` go here instead of JSON-RPC
   * (raw byte tunnels for ssh-proxy); without it every connection is JSON-RPC.
   */
  onTunnel?: (socket: Socket, token: string) => void;
}

interface Client extends ClientHandle {
  socket: Socket;
  /** Cancelled when the client goes away: what it asked for is no longer wanted. */
  goneSource: CancellationTokenSource;
  connection: MessageConnection;
  writer: FrameWriter;
  failed: boolean;
}

/** 8 MiB: thousands of log batches, far more than a client that reads ever lets pile up. */
const DEFAULT_MAX_CLIENT_BACKLOG = 8 * 1024 * 1024;

/**
 * Tighter than common/rpc's defaults, which are sized for a sync manifest crossing SSH: clients
 * (CLI, extension) are on this machine's socket and send requests, never manifests, so a message
 * over 16 MiB or one that stalls for 5 s is a broken or hostile client, and the daemon that every
 * window shares should not hold it.
 */
const CLIENT_FRAME_LIMITS: Partial<FrameLimits> = { maxBodyBytes: 16 * 1024 * 1024, partialTimeoutMs: 5000 };

const USER_ERRORS = new Set([
  'INVALID_PARAMS',
  'INVALID_NAME',
  'INVALID_HOST',
  'NODE_NOT_FOUND',
  'NODE_EXISTS',
  'HOST_KEY_UNCONFIRMED',
]);

export class CoordinatorServer {
  private readonly server: Server;
  private readonly clients = new Set<Client>();
  /** Every open connection (JSON-RPC, tunnel, or not yet known), so close() can end them all. */
  private readonly sockets = new Set<Socket>();
  private readonly methods;
  private nextId = 1;

  constructor(private readonly opts: ServerOptions) {
    this.methods = byMethod(opts.handlers);
    this.server = createServer((socket) => this.route(socket));
    this.server.on('error', (err) => opts.log.error('socket server error', { err }));
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Binds the socket, replacing a stale one (no one answers on it) left by a killed coordinator. */
  async listen(): Promise<void> {
    const path = this.opts.socketPath;
    if (existsSync(path)) {
      if (await answers(path)) throw alreadyRunning(path.replace(/\/coordinator\.sock$/, ''), undefined);
      this.opts.log.warn('replacing a stale coordinator socket', { path });
      rmSync(path, { force: true });
    }
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(path, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(umask);
    }
    chmodSync(path, 0o600);
  }

  broadcast<P>(type: NotificationType<P>, params: P): void {
    for (const c of this.clients) {
      if (!c.initialized || c.failed) continue;
      c.connection
        .sendNotification(type.method, params)
        .catch((err: unknown) => this.opts.log.debug('notification not delivered', { client: c.id, err }));
    }
  }

  /** Ends every connection (flushing replies already written) and stops listening. */
  async close(removeSocket: boolean): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      const ends = [...this.clients].map(
        (c) =>
          new Promise<void>((r) => {
            c.socket.once('close', () => r());
            c.socket.end();
          }),
      );
      void Promise.race([Promise.all(ends), new Promise((r) => setTimeout(r, 500))]).then(() => {
        for (const c of this.clients) c.socket.destroy();
        for (const s of this.sockets) s.destroy();
      });
    });
    if (removeSocket) rmSync(this.opts.socketPath, { force: true });
  }

  private route(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const onTunnel = this.opts.onTunnel;
    if (!onTunnel) {
      this.accept(socket);
      return;
    }
    socket.on('error', (err) => this.opts.log.debug('socket error before the first message', { err }));
    sniffConnection(socket, { rpc: () => this.accept(socket), tunnel: (token) => onTunnel(socket, token) });
  }

  private accept(socket: Socket): void {
    const { log } = this.opts;
    const maxBacklog = this.opts.maxClientBacklogBytes ?? DEFAULT_MAX_CLIENT_BACKLOG;
    const writer = new FrameWriter(socket, {
      maxBacklogBytes: maxBacklog,
      onBacklog: (queued) => this.dropSlowReader(client, queued, maxBacklog),
    });
    const gone = new CancellationTokenSource();
    const client = {
      id: this.nextId++,
      socket,
      writer,
      initialized: undefined,
      failed: false,
      goneSource: gone,
      gone: gone.token,
    } as unknown as Client;
    client.notify = (type, params) => {
      if (client.failed || gone.token.isCancellationRequested) return;
      client.connection
        .sendNotification(type.method, params)
        .catch((err: unknown) => log.debug('notification not delivered', { client: client.id, err }));
    };
    const limits = {
      ...CLIENT_FRAME_LIMITS,
      ...(this.opts.partialMessageTimeoutMs !== undefined
        ? { partialTimeoutMs: this.opts.partialMessageTimeoutMs }
        : {}),
    };
    const reader = new FrameReader(socket, { limits, onViolation: (v) => this.rejectViolation(client, v) });
    client.connection = createMessageConnection(reader, writer, {
      error: (m) => log.debug('jsonrpc', { client: client.id, m }),
      warn: (m) => log.debug('jsonrpc', { client: client.id, m }),
      info: () => undefined,
      log: () => undefined,
    });
    this.clients.add(client);
    log.debug('client connected', { client: client.id });

    client.connection.onError(([err]) => log.debug('client connection error', { client: client.id, err }));
    client.connection.onClose(() => {
      client.goneSource.cancel();
      this.clients.delete(client);
      log.debug('client disconnected', { client: client.id });
    });
    socket.on('error', (err) => log.debug('client socket error', { client: client.id, err }));
    client.connection.onRequest((method, params, token) => this.dispatch(client, method, params, token));
    client.connection.onNotification((method) =>
      log.debug('ignored client notification', { client: client.id, method }),
    );
    client.connection.listen();
  }

  private async dispatch(client: Client, method: string, raw: unknown, token: CancellationToken): Promise<unknown> {
    const { log } = this.opts;
    const started = Date.now();
    try {
      const handler = this.methods.get(method);
      if (!handler) {
        throw new VendettaError('METHOD_NOT_FOUND', `The coordinator has no method "${method.slice(0, 80)}"`, {
          hint: 'The client and the running coordinator differ in version: `vendetta coordinator stop`, then retry.',
        });
      }
      if (method !== 'initialize' && !client.initialized) {
        throw new VendettaError('PROTOCOL_MISMATCH', `"${method}" before "initialize"`, {
          hint: 'A client must send `initialize` first, with its protocol version.',
        });
      }
      const params = handler.validate(raw);
      const cancel = new CancellationTokenSource();
      const subs = [
        token.onCancellationRequested(() => cancel.cancel()),
        client.gone.onCancellationRequested(() => cancel.cancel()),
      ];
      if (token.isCancellationRequested || client.gone.isCancellationRequested) cancel.cancel();
      let result: unknown;
      try {
        result = await handler.run(params, {
          client,
          token: cancel.token,
          progress: this.progressFor(client, progressTokenOf(raw)),
        });
      } finally {
        for (const d of subs) d.dispose();
        cancel.dispose();
      }
      log.debug('request', { client: client.id, method, ms: Date.now() - started });
      return result;
    } catch (err) {
      const e = toVendettaError(err);
      const level = e.code === 'INTERNAL' ? 'error' : USER_ERRORS.has(e.code) ? 'info' : 'warn';
      log.log(level, `${method} failed: ${e.message}`, {
        client: client.id,
        method,
        code: e.code,
        node: e.node,
        err: e,
      });
      return e.toResponseError();
    }
  }

  private progressFor(client: Client, token: string | undefined): ProgressReporter {
    if (token === undefined) return () => undefined;
    let last = Date.now();
    return (step, total, message) => {
      const now = Date.now();
      const elapsedMs = step > 1 ? now - last : undefined;
      last = now;
      client.connection
        .sendNotification(ProgressNotification, {
          token,
          step,
          total,
          message,
          ...(elapsedMs !== undefined ? { elapsedMs } : {}),
        })
        .catch(() => undefined);
    };
  }

  /**
   * Broken framing cuts the client off (its byte stream cannot be read further); so does a body
   * that is not JSON, as it always has here. JSON that is not JSON-RPC is answered and the
   * connection goes on.
   */
  private rejectViolation(client: Client, v: FrameViolation): void {
    const fatal = v.fatal || v.kind === 'PARSE_ERROR';
    this.reject(client, `${fatal ? 'Malformed' : 'Invalid'} JSON-RPC message: ${v.message}`, v.id, fatal);
  }

  /** A client that left too much unread is disconnected, so what it follows stops with it. */
  private dropSlowReader(client: Client, queued: number, limit: number): void {
    if (client.failed) return;
    client.failed = true;
    this.opts.log.warn('disconnected a client that stopped reading', {
      client: client.id,
      unreadBytes: queued,
      limitBytes: limit,
    });
    client.socket.destroy();
  }

  /** Answers a bad message with an error; `fatal` closes the connection too. */
  private reject(client: Client, message: string, id: string | number | null, fatal: boolean): void {
    if (client.failed) return;
    const e = new VendettaError('INVALID_PARAMS', message, {
      hint: 'Speak JSON-RPC 2.0 with Content-Length framing, as vscode-jsonrpc does.',
    });
    this.opts.log.warn('bad message from a client', { client: client.id, message, fatal });
    const error = e.toResponseError().toJson();
    if (fatal) client.failed = true;
    const written = client.writer.write({ jsonrpc: '2.0', id, error } as never).catch(() => undefined);
    if (fatal) {
      // The writer is asynchronous: end the socket only after the error went out.
      void written.then(() => client.socket.end());
      setTimeout(() => client.socket.destroy(), 1000).unref();
    }
  }
}
