/**
 * The MCP server's one connection to the coordinator, kept for the server's whole life (a tool
 * call pays no connect or `initialize`): reconnects (starting the coordinator) after it was lost,
 * routes `progress/didReport` notifications to the call that asked for them, and records every
 * tool call in the coordinator's log.
 */
import { randomUUID } from 'node:crypto';
import type { RequestType, RequestType0 } from 'vscode-jsonrpc';
import { CoordinatorClient } from '../cli/client';
import {
  LogToolCallRequest,
  ProgressNotification,
  type ErrorData,
  type ProgressParams,
  type ToolCallRecord,
} from '../protocol';

export class CoordinatorLink {
  private client: CoordinatorClient | undefined;
  private connecting: Promise<CoordinatorClient> | undefined;
  private readonly progress = new Map<string, (p: ProgressParams) => void>();

  constructor(
    private readonly connect: () => Promise<CoordinatorClient> = () =>
      CoordinatorClient.connect({ clientName: 'vendetta-mcp' }),
  ) {}

  /** The connected client, connecting (again) when there is none or the last one was lost. */
  get(): Promise<CoordinatorClient> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().then(
      (c) => {
        this.client = c;
        this.connecting = undefined;
        c.onNotification(ProgressNotification, (p) => this.progress.get(p.token)?.(p));
        c.lostConnection.catch(() => {
          if (this.client === c) this.client = undefined;
        });
        return c;
      },
      (err: unknown) => {
        this.connecting = undefined;
        throw err;
      },
    );
    return this.connecting;
  }

  request<P, R>(type: RequestType<P, R, ErrorData>, params: P): Promise<R>;
  request<R>(type: RequestType0<R, ErrorData>): Promise<R>;
  async request(
    type: RequestType<unknown, unknown, ErrorData> | RequestType0<unknown, ErrorData>,
    ...params: unknown[]
  ): Promise<unknown> {
    const c = await this.get();
    return (c.request as (t: unknown, ...a: unknown[]) => Promise<unknown>)(type, ...params);
  }

  /** A progress token for one coordinator request; `listener` hears its steps until `done()`. */
  progressToken(listener: (p: ProgressParams) => void): { token: string; done: () => void } {
    const token = randomUUID();
    this.progress.set(token, listener);
    return { token, done: () => this.progress.delete(token) };
  }

  /** Best effort: a call is not failed because its log line could not be written. */
  async logCall(record: ToolCallRecord): Promise<void> {
    try {
      await this.request(LogToolCallRequest, record);
    } catch {
      // The coordinator is gone; the call's own result already says so.
    }
  }

  dispose(): void {
    this.client?.dispose();
    this.client = undefined;
  }
}
