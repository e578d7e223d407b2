/**
 * The extension's link to the coordinator: connects on first use (starting the bundled
 * coordinator when nobody answers), forwards its notifications as events, and reconnects when
 * it goes away. Requests made while disconnected connect first. No vscode import: the state
 * is shown by the tree (views/nodes) and tested without VS Code.
 */
import {
  ConnectionError,
  ErrorCodes as JsonRpcErrorCodes,
  ResponseError,
  type CancellationToken,
  type MessageConnection,
  type RequestType,
  type RequestType0,
} from 'vscode-jsonrpc';
import {
  LogLinesNotification,
  NodesDidChange,
  ProgressNotification,
  PortsDidChange,
  ServicesDidChange,
  WorkspacesDidChange,
  type ErrorData,
  type InitializeResult,
  type NodeSummary,
  type ProgressParams,
  type ServiceLogLine,
  type WorkspaceServices,
  type WorkspaceSummary,
} from '../../coordinator/protocol';
import { ExtensionError, errorInfo } from '../errors';
import { Emitter, type Disposable } from '../util/emitter';
import { handshake, openSocket, type OpenConnection } from './connection';
import type { HomeFiles } from './home';
import { launchCoordinator } from './launcher';
import type { NodeRuntime } from './runtime';

export type ConnectionState =
  | { kind: 'idle' }
  | { kind: 'connecting' }
  | { kind: 'starting'; runtime: string }
  | { kind: 'connected'; info: InitializeResult }
  /** The coordinator went away; trying to reach it again (without starting one). */
  | { kind: 'reconnecting'; attempt: number }
  /** It did not come back; the next request starts it. */
  | { kind: 'stopped' }
  | { kind: 'failed'; error: unknown };

export interface LogSink {
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string | Error, ...args: unknown[]): void;
  debug(message: string, ...args: unknown[]): void;
}

export interface ClientOptions {
  home: () => HomeFiles;
  /** dist/vendetta.js of this extension. */
  cliPath: string;
  clientInfo: { name: string; version: string };
  findRuntime: () => Promise<NodeRuntime>;
  logLevel?: () => string | undefined;
  log: LogSink;
  /** Delays between reconnect attempts after the coordinator went away. */
  reconnectDelaysMs?: number[];
}

const DEFAULT_RECONNECT_DELAYS = [250, 500, 1000, 2000, 3000, 4000];

export class CoordinatorClient implements Disposable {
  private current: OpenConnection | undefined;
  private connecting: Promise<OpenConnection> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  private stateValue: ConnectionState = { kind: 'idle' };

  private readonly stateEmitter = new Emitter<ConnectionState>();
  private readonly nodesEmitter = new Emitter<NodeSummary[]>();
  private readonly workspacesEmitter = new Emitter<WorkspaceSummary[]>();
  private readonly servicesEmitter = new Emitter<WorkspaceServices>();
  private readonly portsEmitter = new Emitter<{ name: string; node: string }>();
  private readonly logLinesEmitter = new Emitter<{ followToken: string; lines: ServiceLogLine[] }>();
  private readonly progressEmitter = new Emitter<ProgressParams>();

  readonly onDidChangeState = this.stateEmitter.event;
  readonly onNodes = this.nodesEmitter.event;
  readonly onWorkspaces = this.workspacesEmitter.event;
  readonly onServices = this.servicesEmitter.event;
  /** The ports listening inside a workspace changed (a dev server started or stopped). */
  readonly onPorts = this.portsEmitter.event;
  readonly onLogLines = this.logLinesEmitter.event;
  readonly onProgress = this.progressEmitter.event;

  constructor(private readonly opts: ClientOptions) {}

  get state(): ConnectionState {
    return this.stateValue;
  }

  get home(): HomeFiles {
    return this.opts.home();
  }

  private setState(s: ConnectionState): void {
    this.stateValue = s;
    this.stateEmitter.fire(s);
  }

  /** The live connection, connecting (and starting the coordinator) when there is none. */
  ensureConnected(): Promise<OpenConnection> {
    if (this.disposed) return Promise.reject(new ExtensionError('The Vendetta extension is shutting down'));
    if (this.current) return Promise.resolve(this.current);
    if (!this.connecting) {
      clearTimeout(this.reconnectTimer);
      this.connecting = this.connect(true).finally(() => (this.connecting = undefined));
    }
    return this.connecting;
  }

  private async connect(autoStart: boolean): Promise<OpenConnection> {
    const home = this.opts.home();
    this.setState({ kind: 'connecting' });
    try {
      let socket = await openSocket(home.socket);
      if (!socket) {
        if (!autoStart) throw new ExtensionError('The coordinator is not running');
        const runtime = await this.opts.findRuntime();
        this.setState({ kind: 'starting', runtime: runtime.description });
        this.opts.log.info(`Starting the coordinator with ${runtime.description} (home ${home.root})`);
        const logLevel = this.opts.logLevel?.();
        await launchCoordinator({ home, cliPath: this.opts.cliPath, runtime, ...(logLevel ? { logLevel } : {}) });
        socket = await openSocket(home.socket);
        if (!socket)
          throw new ExtensionError(
            'The coordinator stopped answering right after it started',
            `See ${home.logsDir}/coordinator.log.`,
          );
      }
      const open = await handshake(socket, this.opts.clientInfo);
      if (this.disposed) {
        open.connection.dispose();
        open.socket.destroy();
        throw new ExtensionError('The Vendetta extension is shutting down');
      }
      this.attach(open);
      this.opts.log.info(
        `Connected to coordinator ${open.info.coordinatorVersion} (pid ${open.info.pid}, home ${open.info.home})`,
      );
      this.setState({ kind: 'connected', info: open.info });
      return open;
    } catch (err) {
      if (autoStart) this.setState({ kind: 'failed', error: err });
      throw err;
    }
  }

  private attach(open: OpenConnection): void {
    this.current = open;
    const c = open.connection;
    c.onNotification(NodesDidChange, (p) => this.nodesEmitter.fire(p.nodes));
    c.onNotification(WorkspacesDidChange, (p) => this.workspacesEmitter.fire(p.workspaces));
    c.onNotification(ServicesDidChange, (p) => this.servicesEmitter.fire(p));
    c.onNotification(PortsDidChange, (p) => this.portsEmitter.fire(p));
    c.onNotification(LogLinesNotification, (p) => this.logLinesEmitter.fire(p));
    c.onNotification(ProgressNotification, (p) => this.progressEmitter.fire(p));
    void open.closed.then(() => {
      c.dispose();
      if (this.current !== open) return;
      this.current = undefined;
      if (this.disposed) return;
      this.opts.log.warn('The coordinator closed the connection; reconnecting');
      this.scheduleReconnect(0);
    });
  }

  private scheduleReconnect(attempt: number): void {
    const delays = this.opts.reconnectDelaysMs ?? DEFAULT_RECONNECT_DELAYS;
    const delay = delays[attempt];
    if (delay === undefined) {
      this.setState({ kind: 'stopped' });
      return;
    }
    this.setState({ kind: 'reconnecting', attempt: attempt + 1 });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (this.disposed || this.current || this.connecting) return;
      this.connecting = this.connect(false).finally(() => (this.connecting = undefined));
      this.connecting.catch(() => {
        if (!this.disposed && !this.current) this.scheduleReconnect(attempt + 1);
      });
    }, delay);
  }

  /** Drops the connection (e.g. vendetta.home changed); the next request connects anew. */
  reset(): void {
    clearTimeout(this.reconnectTimer);
    const open = this.current;
    this.current = undefined;
    if (open) {
      open.connection.dispose();
      open.socket.destroy();
    }
    this.setState({ kind: 'idle' });
  }

  request<P, R>(type: RequestType<P, R, ErrorData>, params: P, token?: CancellationToken): Promise<R>;
  request<R>(type: RequestType0<R, ErrorData>, token?: CancellationToken): Promise<R>;
  async request(
    type: RequestType<unknown, unknown, ErrorData> | RequestType0<unknown, ErrorData>,
    ...rest: unknown[]
  ): Promise<unknown> {
    const open = await this.ensureConnected();
    const send = open.connection.sendRequest.bind(open.connection) as (t: unknown, ...a: unknown[]) => Promise<unknown>;
    try {
      return await send(type, ...rest.filter((a) => a !== undefined));
    } catch (err) {
      // attach() disposes the connection when the socket closes, which rejects what is pending
      // this way (vscode-jsonrpc itself would leave it hanging); a closed one refuses new requests.
      const lost =
        err instanceof ConnectionError ||
        (err instanceof ResponseError &&
          (err.code === JsonRpcErrorCodes.PendingResponseRejected ||
            err.code === JsonRpcErrorCodes.ConnectionInactive));
      if (lost)
        throw new ExtensionError(
          'Lost the connection to the coordinator',
          'Try again; the coordinator is started again when needed.',
          { cause: err },
        );
      throw err;
    }
  }

  /** A request to a method an older coordinator may lack: undefined instead of "method not found". */
  async optionalRequest<P, R>(type: RequestType<P, R, ErrorData>, params: P): Promise<R | undefined> {
    try {
      return await this.request(type, params);
    } catch (err) {
      if (errorInfo(err).methodNotFound) return undefined;
      throw err;
    }
  }

  /** The raw connection for a caller that sends a notification-driven stream (logs follow). */
  get connection(): MessageConnection | undefined {
    return this.current?.connection;
  }

  dispose(): void {
    this.disposed = true;
    this.reset();
    for (const e of [
      this.stateEmitter,
      this.nodesEmitter,
      this.workspacesEmitter,
      this.servicesEmitter,
      this.portsEmitter,
      this.logLinesEmitter,
      this.progressEmitter,
    ])
      e.dispose();
  }
}
