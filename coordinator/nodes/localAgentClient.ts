/**
 * The `local` transport: the agent runs as a child process of the coordinator
 * (`node agent.js attach`, which bridges its stdio to the local agent daemon and starts the
 * daemon when absent). Same protocol and AgentSession as over SSH, no SSH. Like the SSH client,
 * a link that drops comes back by itself (backoff with jitter); a request made meanwhile tries at once.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { NotificationType } from 'vscode-jsonrpc';
import type { InitializeResult } from '../../agent/protocol';
import { shellExitCode } from '../../common/process/exitCode';
import { VendettaError } from '../errors';
import type { Logger } from '../log';
import { RetrySchedule, type BackoffOptions } from '../ssh/backoff';
import { describeNetworkError } from '../ssh/tcp';
import {
  agentRequest,
  type AgentClient,
  type AgentCommand,
  type AgentRequest,
  type Disposable,
  type LinkState,
  type UntypedAgentRequest,
} from './agentClient';
import { AgentSession } from './agentSession';
import { NotificationFanout } from './notificationFanout';

export interface LocalAgentClientOptions {
  nodeName: string;
  /** VENDETTA_AGENT_HOME of the child (paths.localAgentHome). */
  agentHome: string;
  agentBundle: string;
  log: Logger;
  handshakeTimeoutMs?: number;
  /** The largest message taken from the agent (the session's default when unset). */
  maxMessageBytes?: number;
  backoff?: BackoffOptions;
}

export class LocalAgentClient implements AgentClient {
  state: LinkState = 'idle';
  lastError: VendettaError | undefined;
  lastSeen: Date | undefined;
  agent: InitializeResult | undefined;

  private session: AgentSession | undefined;
  private child: ChildProcessWithoutNullStreams | undefined;
  private connecting: Promise<InitializeResult> | undefined;
  private closed = false;
  private readonly retries: RetrySchedule;
  private readonly listeners = new Set<(state: LinkState, error?: VendettaError) => void>();
  private readonly notifications = new NotificationFanout();

  constructor(private readonly opts: LocalAgentClientOptions) {
    this.retries = new RetrySchedule(opts.backoff);
  }

  get nodeName(): string {
    return this.opts.nodeName;
  }

  connect(): Promise<InitializeResult> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.state === 'online' && this.session && !this.session.closed && this.agent)
      return Promise.resolve(this.agent);
    this.connecting ??= this.start().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  readonly request: AgentRequest = agentRequest(async (type, ...args) => {
    await this.connect();
    const session = this.session;
    if (!session) throw this.lastError ?? this.closedError();
    const result = await (session.request as UntypedAgentRequest)(type, ...args);
    this.lastSeen = new Date();
    return result;
  });

  onStateChange(listener: (state: LinkState, error?: VendettaError) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): Disposable {
    return this.notifications.on(type, handler);
  }

  /** `node agent.js <args…>` with the same agent home as the daemon; the daemon is started first. */
  async runAgentCommand(args: string[]): Promise<AgentCommand> {
    await this.connect();
    const { agentBundle, agentHome, nodeName } = this.opts;
    const child = spawn(process.execPath, [agentBundle, ...args], {
      env: { ...process.env, VENDETTA_AGENT_HOME: agentHome },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err) =>
        reject(
          new VendettaError('NODE_UNREACHABLE', `Cannot run the local agent: ${err.message}`, {
            node: nodeName,
            cause: err,
          }),
        ),
      );
    });
    // An EPIPE on stdin (the command exited early) is reported through its exit code and stderr.
    child.stdin.on('error', () => undefined);
    const exit = new Promise<number>((resolve) => {
      child.once('close', (code, signal) => resolve(shellExitCode(code, signal)));
    });
    return {
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      exit,
      kill: () => void child.kill('SIGTERM'),
    };
  }

  /** The local agent's sockets are on this machine: a plain connect. */
  async openNodeSocket(path: string): Promise<Duplex> {
    await this.connect();
    return new Promise((resolve, reject) => {
      const sock = connect({ path, allowHalfOpen: true });
      sock.once('connect', () => {
        sock.removeAllListeners('error');
        resolve(sock);
      });
      sock.once('error', (err) => {
        sock.destroy();
        reject(
          new VendettaError('NODE_UNREACHABLE', `Cannot connect to the local agent's ${path}: ${err.message}`, {
            node: this.opts.nodeName,
            cause: err,
          }),
        );
      });
    });
  }

  /** The local node's workspaces listen on this machine's loopback: a plain TCP connect. */
  openTcp(host: string, port: number): Promise<Duplex> {
    const node = this.opts.nodeName;
    return new Promise((resolve, reject) => {
      const sock = connect({ host, port });
      sock.once('connect', () => {
        sock.removeAllListeners('error');
        sock.setNoDelay(true);
        resolve(sock);
      });
      sock.once('error', (err) => {
        sock.destroy();
        reject(
          new VendettaError(
            'TUNNEL_FAILED',
            `Cannot connect to ${host}:${port} on ${node}: ${describeNetworkError(err)}`,
            {
              node,
              cause: err,
              hint: 'Is the workspace running? `vendetta workspace status` shows it; `vendetta workspace start` starts it.',
            },
          ),
        );
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.retries.cancel();
    const child = this.child;
    this.session?.dispose();
    this.session = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      // Closing stdin ends `attach`; the daemon itself keeps running (workspaces outlive us).
      child.stdin.end();
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const timer = setTimeout(() => child.kill('SIGTERM'), 1000);
      await exited;
      clearTimeout(timer);
    }
    this.setState('offline', this.closedError());
  }

  private async start(): Promise<InitializeResult> {
    this.setState('connecting');
    const { agentBundle, agentHome, nodeName, log } = this.opts;
    try {
      if (!existsSync(agentBundle)) {
        throw new VendettaError('AGENT_INSTALL_FAILED', `The agent bundle is missing: ${agentBundle}`, {
          node: nodeName,
          hint: 'Reinstall vendetta (or run `npm run build` in a source checkout).',
        });
      }
      mkdirSync(agentHome, { recursive: true, mode: 0o700 });
      const child = spawn(process.execPath, [agentBundle, 'attach'], {
        env: { ...process.env, VENDETTA_AGENT_HOME: agentHome },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      this.child = child;
      const stderrTail: string[] = [];
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        for (const line of chunk.split('\n').filter(Boolean)) {
          stderrTail.push(line);
          if (stderrTail.length > 20) stderrTail.shift();
          log.debug('local agent stderr', { node: nodeName, line });
        }
      });
      const spawnFailed = new Promise<never>((_, reject) => child.once('error', reject));
      spawnFailed.catch(() => undefined);
      child.once('exit', (code, signal) => {
        log.info('local agent attach process exited', { node: nodeName, code, signal });
        // Only its own session: after a reconnect, an old process's exit must not end the new one.
        if (this.child === child) this.session?.dispose();
      });
      const session = new AgentSession({
        nodeName,
        input: child.stdout,
        output: child.stdin,
        handshakeTimeoutMs: this.opts.handshakeTimeoutMs,
        maxMessageBytes: this.opts.maxMessageBytes,
        onLog: (p) => log.log(p.level, `agent: ${p.message}`, { node: nodeName }),
      });
      this.session = session;
      this.notifications.attach(session.connection);
      session.onClose((err) => {
        if (this.session !== session) return;
        this.session = undefined;
        this.agent = undefined;
        if (child.exitCode === null) child.kill('SIGTERM');
        const tail = stderrTail.at(-1);
        const lost = tail
          ? new VendettaError(err.code, `${err.message} (agent said: ${tail})`, {
              node: nodeName,
              hint: err.hint,
              cause: err.cause,
            })
          : err;
        if (!this.closed) {
          this.setState('offline', lost);
          this.scheduleReconnect();
        }
      });
      const result = await Promise.race([session.initialize(), spawnFailed]);
      this.agent = result;
      this.lastSeen = new Date();
      this.retries.reset();
      log.info('local agent connected', { node: nodeName, agentVersion: result.agentVersion, daemonPid: result.pid });
      this.setState('online');
      return result;
    } catch (err) {
      const e =
        err instanceof VendettaError
          ? err
          : new VendettaError('NODE_UNREACHABLE', `Cannot start the local agent: ${(err as Error).message}`, {
              node: nodeName,
              cause: err,
              hint: "The coordinator log has the agent's output.",
            });
      this.session?.dispose();
      this.session = undefined;
      if (this.child && this.child.exitCode === null) this.child.kill('SIGTERM');
      this.setState('offline', e);
      this.scheduleReconnect();
      throw e;
    }
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.retries.schedule(() => this.connect()); // a failure reschedules itself
  }

  private setState(state: LinkState, error?: VendettaError): void {
    if (state === 'online') this.lastError = undefined;
    if (error) this.lastError = error;
    if (state === this.state && !error) return;
    this.state = state;
    for (const l of [...this.listeners]) l(state, error);
  }

  private closedError(): VendettaError {
    return new VendettaError('NODE_UNREACHABLE', `The link to ${this.opts.nodeName} was closed`, {
      node: this.opts.nodeName,
    });
  }
}
