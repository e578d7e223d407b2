/**
 * One JSON-RPC session with an agent over a pair of byte streams (an SSH exec channel running
 * `vendetta-agent attach`, or a child process's stdio). Both transports share it: the handshake,
 * the version check and the mapping of failures to VendettaErrors live here once.
 */
import type { Readable, Writable } from 'node:stream';
import { createMessageConnection, ResponseError, type MessageConnection } from 'vscode-jsonrpc/node';
import {
  AGENT_PROTOCOL_VERSION,
  AgentErrorCodes,
  Initialize,
  LogNotification,
  Shutdown,
  type AgentErrorData,
  type InitializeResult,
  type LogParams,
} from '../../agent/protocol';
import { VendettaError } from '../errors';
import { agentRequest, type AgentRequest, type UntypedAgentRequest } from './agentClient';
import { VERSION } from '../version';
import { withTimeout } from '../../common/async/timeout';
import { FrameError, FrameReader, FRAME_LIMITS } from '../../common/rpc/frameReader';
import { FrameWriter } from '../../common/rpc/frameWriter';

export interface AgentSessionOptions {
  nodeName: string;
  input: Readable;
  output: Writable;
  /** Called with the agent's log notifications. */
  onLog?: (params: LogParams) => void;
  /** How long the handshake may take before the link is declared dead. */
  handshakeTimeoutMs?: number;
  /** The largest message taken from the agent (common/rpc's FRAME_LIMITS.maxBodyBytes unless a test says). */
  maxMessageBytes?: number;
}

export class AgentSession {
  readonly connection: MessageConnection;
  private closedError: VendettaError | undefined;
  private readonly closeListeners: Array<(err: VendettaError) => void> = [];
  /**
   * Rejecters of the requests in flight by send number (a Map keeps insertion order, so the first
   * key is the oldest), so a closed link fails them with our own error.
   */
  private readonly inFlight = new Map<number, (err: VendettaError) => void>();
  private sentCount = 0;
  /** Answers read off the stream so far (a response is counted as soon as its bytes are in). */
  private answeredCount = 0;
  private readonly reader: FrameReader;
  initializeResult: InitializeResult | undefined;

  constructor(private readonly opts: AgentSessionOptions) {
    this.reader = new FrameReader(opts.input, {
      // A larger reply is refused before it is buffered, so one cannot take the coordinator's
      // memory. No stall limit: a reply slowed by the SSH link must not be cut short; the pool's
      // request timeouts and SSH keepalives judge an agent that went silent.
      limits: { maxBodyBytes: opts.maxMessageBytes ?? FRAME_LIMITS.maxBodyBytes, partialTimeoutMs: 0 },
      observe: (m) => {
        if ('id' in m && !('method' in m)) this.answeredCount++;
      },
    });
    this.connection = createMessageConnection(this.reader, new FrameWriter(opts.output));
    this.connection.onNotification(LogNotification, (p) => opts.onLog?.(p));
    this.connection.onClose(() => this.markClosed('the connection to the agent closed'));
    this.connection.onError(([err]) => {
      if (err instanceof FrameError && err.violation.tooLarge)
        this.markClosed('', err, tooLarge(opts.nodeName, err, err.violation.tooLarge));
      else this.markClosed(`the connection to the agent failed: ${err.message}`, err);
    });
    this.connection.listen();
  }

  /** How many requests were sent so far: each request's number is the count at its sending. */
  get sent(): number {
    return this.sentCount;
  }

  /** Some request has no answer in yet, or an answer is only partly here. */
  get waiting(): boolean {
    return this.sentCount > this.answeredCount || this.reader.midMessage;
  }

  /** The number of the oldest request still unanswered. */
  get oldestPending(): number | undefined {
    return this.inFlight.keys().next().value;
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  onClose(listener: (err: VendettaError) => void): void {
    if (this.closedError) listener(this.closedError);
    else this.closeListeners.push(listener);
  }

  /** `initialize`, checking the protocol version. */
  async initialize(): Promise<InitializeResult> {
    const timeoutMs = this.opts.handshakeTimeoutMs ?? 20_000;
    const result = await withTimeout(
      this.request(Initialize, {
        protocolVersion: AGENT_PROTOCOL_VERSION,
        clientName: 'vendetta-coordinator',
        clientVersion: VERSION,
      }),
      timeoutMs,
      () =>
        new VendettaError(
          'NODE_UNREACHABLE',
          `The agent on ${this.opts.nodeName} did not answer within ${timeoutMs / 1000} s`,
          {
            node: this.opts.nodeName,
            hint: `Run \`vendetta node test ${this.opts.nodeName}\` to see which step fails.`,
          },
        ),
    );
    if (result.protocolVersion !== AGENT_PROTOCOL_VERSION) {
      throw protocolMismatch(this.opts.nodeName, result.protocolVersion);
    }
    this.initializeResult = result;
    return result;
  }

  /**
   * Asks a daemon that refused our protocol (PROTOCOL_MISMATCH from initialize) to stop, for an
   * upgrade. It answers nothing before a handshake, and `initialize` and `agent/shutdown` keep their
   * shape in every protocol version: so the handshake is made again in the daemon's own version.
   */
  async shutdownAfterMismatch(mismatch: VendettaError): Promise<{ pid: number }> {
    const theirs = mismatch.details?.agentProtocol;
    if (typeof theirs !== 'number') throw mismatch;
    await this.request(Initialize, {
      protocolVersion: theirs,
      clientName: 'vendetta-coordinator',
      clientVersion: VERSION,
    });
    return this.request(Shutdown);
  }

  readonly request: AgentRequest = agentRequest(async (type, ...args) => {
    if (this.closedError) throw this.closedError;
    // vscode-jsonrpc leaves a request pending when the stream closes (it rejects only on
    // dispose): race it against our own error. One rejecter per request, dropped when it settles.
    let failRequest!: (err: VendettaError) => void;
    const closed = new Promise<never>((_, reject) => (failRequest = reject));
    const seq = ++this.sentCount;
    this.inFlight.set(seq, failRequest);
    try {
      const call = (this.connection.sendRequest as UntypedAgentRequest)(type, ...args);
      return await Promise.race([call, closed]);
    } catch (err) {
      throw this.closedError ?? this.mapError(err);
    } finally {
      this.inFlight.delete(seq);
    }
  });

  dispose(): void {
    this.markClosed('the session was closed');
    this.connection.dispose();
  }

  private mapError(err: unknown): VendettaError {
    if (err instanceof VendettaError) return err;
    const node = this.opts.nodeName;
    if (err instanceof ResponseError) {
      const data = err.data as AgentErrorData | undefined;
      if (err.code === AgentErrorCodes.ProtocolMismatch) return protocolMismatch(node, data?.protocolVersion, err);
      return new VendettaError('AGENT_ERROR', err.message, {
        node,
        hint: data?.hint,
        provider: data?.provider,
        cause: err,
      });
    }
    return new VendettaError('NODE_UNREACHABLE', `Lost the connection to ${node}`, { node, cause: err });
  }

  private markClosed(reason: string, cause?: unknown, error?: VendettaError): void {
    if (this.closedError) return;
    this.closedError =
      error ??
      new VendettaError('NODE_UNREACHABLE', `Lost the connection to ${this.opts.nodeName}: ${reason}`, {
        node: this.opts.nodeName,
        hint: `The next request reconnects; \`vendetta node test ${this.opts.nodeName}\` diagnoses a link that stays down.`,
        cause,
      });
    for (const l of this.closeListeners.splice(0)) l(this.closedError);
    for (const fail of this.inFlight.values()) fail(this.closedError);
    this.inFlight.clear();
  }
}

function tooLarge(node: string, err: FrameError, size: { bytes: number; limit: number }): VendettaError {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return new VendettaError(
    'AGENT_ERROR',
    `The agent on ${node} sent a message of ${mib(size.bytes)}, over the coordinator's limit of ${mib(size.limit)}`,
    {
      node,
      hint: 'The coordinator refuses it so its memory stays bounded, and reconnects on the next request. A workspace folder with a very large number of files makes such replies: leave generated folders out of the project.',
      cause: err,
    },
  );
}

function protocolMismatch(node: string, agentVersion: number | undefined, cause?: unknown): VendettaError {
  return new VendettaError(
    'PROTOCOL_MISMATCH',
    `The agent on ${node} speaks protocol ${agentVersion ?? 'unknown'}, this coordinator speaks ${AGENT_PROTOCOL_VERSION}`,
    {
      node,
      hint: `Upgrade vendetta here, or reinstall the agent: \`vendetta node remove ${node} --purge\`, then \`vendetta node add ${node} …\`.`,
      cause,
      ...(agentVersion === undefined ? {} : { details: { agentProtocol: agentVersion } }),
    },
  );
}
