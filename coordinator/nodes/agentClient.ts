/**
 * A coordinator-side handle on one node's agent, whatever the transport (`ssh`: an exec channel
 * on the node's pooled ssh2 connection; `local`: a child process). The node manager sees only this.
 */
import type { CancellationToken, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { AgentErrorData, InitializeResult } from '../../agent/protocol';
import type { VendettaError } from '../errors';

export type LinkState = 'idle' | 'connecting' | 'online' | 'offline';

export interface Disposable {
  dispose(): void;
}

export interface AgentClient {
  readonly nodeName: string;
  readonly state: LinkState;
  /** The error that last took the link offline (cleared when it comes back). */
  readonly lastError: VendettaError | undefined;
  /** When the agent last answered anything. */
  readonly lastSeen: Date | undefined;
  /** What the agent said in `initialize` on the current link. */
  readonly agent: InitializeResult | undefined;

  /**
   * Sends a request, connecting (and handshaking) first when needed. Fails with a VendettaError:
   * NODE_UNREACHABLE when the link cannot be made or dies while the request is in flight (the
   * next request reconnects), AGENT_ERROR for an error the agent returned.
   */
  request<P, R>(type: RequestType<P, R, AgentErrorData>, params: P, token?: CancellationToken): Promise<R>;
  request<R>(type: RequestType0<R, AgentErrorData>, token?: CancellationToken): Promise<R>;

  /** Connects now if not connected (requests do this on their own). */
  connect(): Promise<InitializeResult>;
  onStateChange(listener: (state: LinkState, error?: VendettaError) => void): Disposable;
  /** Closes the link for good; pending requests fail. */
  close(): Promise<void>;
}
