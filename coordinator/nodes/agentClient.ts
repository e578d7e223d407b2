/**
 * A coordinator-side handle on one node's agent, whatever the transport (`ssh`: an exec channel
 * on the node's pooled ssh2 connection; `local`: a child process). The node manager sees only this.
 */
import type { Duplex, Readable, Writable } from 'node:stream';
import type { CancellationToken, NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { AgentErrorData, InitializeResult } from '../../agent/protocol';
import type { VendettaError } from '../errors';

export type LinkState = 'idle' | 'connecting' | 'online' | 'offline';

export interface Disposable {
  dispose(): void;
}

/** `agent.js <args…>` running on the node, its stdio streamed (code sync rides on this). */
export interface AgentCommand {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** The exit code; 128+n for a signal, 255 when the command vanished without one (link lost). */
  exit: Promise<number>;
  /** Stops the command (closes the channel, or kills the child). */
  kill(): void;
}

/** A typed request to an agent: a RequestType with its params, or a RequestType0. */
export interface AgentRequest {
  <P, R>(type: RequestType<P, R, AgentErrorData>, params: P, token?: CancellationToken): Promise<R>;
  <R>(type: RequestType0<R, AgentErrorData>, token?: CancellationToken): Promise<R>;
}

/** What an implementation of AgentRequest sees: any request type, and the arguments after it. */
export type UntypedAgentRequest = (
  type: RequestType<unknown, unknown, AgentErrorData> | RequestType0<unknown, AgentErrorData>,
  ...args: unknown[]
) => Promise<unknown>;

/** One untyped implementation behind the typed overloads (the types check what callers pass). */
export const agentRequest = (impl: UntypedAgentRequest): AgentRequest => impl as AgentRequest;

export interface AgentClient {
  readonly nodeName: string;
  readonly state: LinkState;
  /** The error that last took the link offline (cleared when it comes back). */
  readonly lastError: VendettaError | undefined;
  /** When the agent last answered anything. */
  readonly lastSeen: Date | undefined;
  /** What the agent said in `initialize` on the current link. */
  readonly agent: InitializeResult | undefined;
  /** The Node.js a connect of this client brought the node (`node add --install-runtime`), if any. */
  readonly runtimeProvided?: { how: 'upload' | 'package'; version: string; path: string; ms: number };

  /**
   * Sends a request, connecting (and handshaking) first when needed. Fails with a VendettaError:
   * NODE_UNREACHABLE when the link cannot be made or dies while the request is in flight (the
   * next request reconnects), AGENT_ERROR for an error the agent returned.
   */
  readonly request: AgentRequest;

  /**
   * Runs the installed agent bundle with `args` beside the daemon (an exec channel on the pooled
   * connection, or a child process for `local`), connecting first when needed. NODE_UNREACHABLE
   * when it cannot be started.
   */
  runAgentCommand(args: string[]): Promise<AgentCommand>;

  /**
   * A byte stream to a Unix socket on the node (a streamlocal channel, or a plain connect for
   * `local`), connecting first when needed; refused where the node allows no such channel.
   * Absent: this transport has none.
   */
  openNodeSocket?(path: string): Promise<Duplex>;

  /** A byte stream to host:port as the node sees it (direct-tcpip, or a plain TCP connect for `local`). */
  openTcp(host: string, port: number): Promise<Duplex>;

  /** Notifications the agent sends (on this link and every later one) go to `handler`. */
  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): Disposable;

  /** Connects now if not connected (requests do this on their own). */
  connect(): Promise<InitializeResult>;
  onStateChange(listener: (state: LinkState, error?: VendettaError) => void): Disposable;
  /** Closes the link for good; pending requests fail. */
  close(): Promise<void>;
}
