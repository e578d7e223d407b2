/**
 * The CLI's side of the coordinator socket: connects (starting the coordinator, detached, when
 * nobody answers), sends `initialize`, and turns every ResponseError back into a VendettaError.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import {
  createMessageConnection,
  type CancellationToken,
  ErrorCodes as JsonRpcErrorCodes,
  ResponseError,
  type MessageConnection,
  type NotificationType,
  type RequestType,
  type RequestType0,
} from 'vscode-jsonrpc/node';
import { answers } from '../daemon/socketProbe';
import { VendettaError } from '../errors';
import { cliBundlePath, homePaths, type HomePaths } from '../home';
import { assertTrustedHome } from '../homeTrust';
import { withTimeout } from '../../common/async/timeout';
import { FrameReader } from '../../common/rpc/frameReader';
import { FrameWriter } from '../../common/rpc/frameWriter';
import {
  COORDINATOR_PROTOCOL_VERSION,
  Initialize,
  NodesDidChange,
  ProgressNotification,
  type ErrorData,
  type InitializeResult,
  type NodeSummary,
  type ProgressParams,
} from '../protocol';
import { VERSION } from '../version';
import { ExitCode, reportError } from './output';

export interface ConnectOptions {
  paths?: HomePaths;
  /** Start the coordinator when nobody answers (default true). */
  autoStart?: boolean;
  clientName?: string;
  /** How long to wait for a coordinator being started (default 10 s). */
  startTimeoutMs?: number;
}

export class CoordinatorClient {
  private closed = false;
  /** Set once the coordinator went away; rejects `lost`. */
  private lostError: VendettaError | undefined;
  private readonly lost: Promise<never>;

  private constructor(
    private readonly socket: Socket,
    private readonly connection: MessageConnection,
    readonly info: InitializeResult,
    readonly paths: HomePaths,
  ) {
    this.lost = new Promise<never>((_, reject) => {
      socket.once('close', () => {
        this.lostError = toClientError(new Error('the coordinator closed the connection'), paths);
        reject(this.lostError);
        // vscode-jsonrpc leaves requests pending when the stream closes; disposing rejects them
        // (request() turns that into lostError). No per-request race: it would pile reactions
        // onto this one long-lived promise for as long as the client lives.
        connection.dispose();
      });
    });
    this.lost.catch(() => undefined);
  }

  /** Connects, or returns undefined when nobody answers and autoStart is off. */
  static async connect(opts: ConnectOptions & { autoStart: false }): Promise<CoordinatorClient | undefined>;
  static async connect(opts?: ConnectOptions): Promise<CoordinatorClient>;
  static async connect(opts: ConnectOptions = {}): Promise<CoordinatorClient | undefined> {
    const paths = opts.paths ?? homePaths();
    // Whoever can write the home can put a coordinator of their own behind its socket.
    assertTrustedHome(paths);
    let socket = await openSocket(paths.socket);
    if (!socket) {
      if (opts.autoStart === false) return undefined;
      await startCoordinator(paths, opts.startTimeoutMs);
      socket = await openSocket(paths.socket);
      if (!socket) throw notAnswering(paths, 'stopped answering right after it started');
    }
    const sock = socket;
    const connection = createMessageConnection(new FrameReader(sock), new FrameWriter(sock));
    connection.listen();
    sock.on('error', () => undefined);
    try {
      const closed = new Promise<never>((_, reject) =>
        sock.once('close', () => reject(new Error('the coordinator closed the connection'))),
      );
      closed.catch(() => undefined);
      const info = await withTimeout(
        Promise.race([
          connection.sendRequest(Initialize, {
            protocolVersion: COORDINATOR_PROTOCOL_VERSION,
            client: { name: opts.clientName ?? 'vendetta-cli', version: VERSION },
          }),
          closed,
        ]),
        10_000,
        () => notAnswering(paths, 'accepted the connection but did not answer initialize within 10 s'),
      );
      return new CoordinatorClient(sock, connection, info, paths);
    } catch (err) {
      connection.dispose();
      sock.destroy();
      throw toClientError(err, paths);
    }
  }

  request<P, R>(type: RequestType<P, R, ErrorData>, params: P, token?: CancellationToken): Promise<R>;
  request<R>(type: RequestType0<R, ErrorData>): Promise<R>;
  async request(
    type: RequestType<unknown, unknown, ErrorData> | RequestType0<unknown, ErrorData>,
    ...params: unknown[]
  ): Promise<unknown> {
    if (this.lostError) throw this.lostError;
    try {
      return await (this.connection.sendRequest as (t: unknown, ...a: unknown[]) => Promise<unknown>)(type, ...params);
    } catch (err) {
      // A ResponseError is the coordinator's answer, unless it rejects a request the closed link left pending.
      const answered = err instanceof ResponseError && err.code !== JsonRpcErrorCodes.PendingResponseRejected;
      throw !answered && this.lostError ? this.lostError : toClientError(err, this.paths);
    }
  }

  onProgress(token: string, listener: (p: ProgressParams) => void): void {
    this.connection.onNotification(ProgressNotification, (p) => {
      if (p.token === token) listener(p);
    });
  }

  onNotification<P>(type: NotificationType<P>, listener: (params: P) => void): void {
    this.connection.onNotification(type, listener);
  }

  /** Rejects when the coordinator closes the connection (for commands that stay up). */
  get lostConnection(): Promise<never> {
    return this.lost;
  }

  onNodesChanged(listener: (nodes: NodeSummary[]) => void): void {
    this.connection.onNotification(NodesDidChange, (p) => listener(p.nodes));
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection.dispose();
    this.socket.end();
    this.socket.destroy();
  }
}

/**
 * Spawns `vendetta coordinator run` detached (it outlives this process) and waits until its
 * socket answers. Several CLIs racing here are fine: the instance lock lets one coordinator win
 * and every CLI connects to it.
 */
export async function startCoordinator(paths: HomePaths, timeoutMs = 10_000): Promise<void> {
  mkdirSync(paths.root, { recursive: true, mode: 0o700 });
  const child = spawn(process.execPath, [cliBundlePath(), 'coordinator', 'run'], {
    detached: true,
    stdio: 'ignore',
    cwd: paths.root,
    env: { ...process.env, VENDETTA_HOME: paths.root },
  });
  let exitedAt: number | undefined;
  child.once('exit', () => {
    exitedAt = Date.now();
  });
  child.once('error', () => {
    exitedAt = Date.now();
  });
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await answers(paths.socket, 500)) return;
    // It exited (e.g. another coordinator won the race): give the winner a moment, then give up.
    if (exitedAt !== undefined && Date.now() - exitedAt > 1500) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw notAnswering(
    paths,
    exitedAt !== undefined ? 'exited right after it was started' : `did not start within ${timeoutMs / 1000} s`,
  );
}

function openSocket(path: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', () => {
      s.destroy();
      resolve(undefined);
    });
  });
}

function notAnswering(paths: HomePaths, what: string): VendettaError {
  return new VendettaError('INTERNAL', `The coordinator ${what}`, {
    hint: `See ${paths.logsDir}/coordinator.log; \`vendetta coordinator stop\` stops a stuck one.`,
  });
}

function toClientError(err: unknown, paths: HomePaths): VendettaError {
  if (err instanceof VendettaError) return err;
  if (err instanceof ResponseError) return VendettaError.fromResponseError(err);
  return new VendettaError('INTERNAL', 'Lost the connection to the coordinator', {
    cause: err,
    hint: `See ${paths.logsDir}/coordinator.log; the next command starts a new coordinator if it stopped.`,
  });
}

/** Runs `body` with a connected client (auto-starting the coordinator) and always lets it go. */
export async function withClient<T>(body: (client: CoordinatorClient) => Promise<T>): Promise<T> {
  const client = await CoordinatorClient.connect();
  try {
    return await body(client);
  } finally {
    client.dispose();
  }
}

/**
 * Runs a command's body, printing any error the standard way (JSON on stdout too with --json,
 * the cause chain with --verbose) and setting the exit code.
 */
export async function runAction(
  opts: { json?: boolean; verbose?: boolean },
  body: () => Promise<number | void>,
): Promise<void> {
  try {
    const code = await body();
    process.exitCode = code ?? ExitCode.Ok;
  } catch (err) {
    process.exitCode = reportError(err, opts);
  }
}
