/**
 * The `ssh` transport of AgentClient: one pooled ssh2 connection per node, carrying one
 * long-lived channel to the agent daemon that every request shares (JSON-RPC multiplexes them):
 * a streamlocal channel straight to its socket, or `agent.js attach` where that is not possible
 * (openAgentSession.ts); plus short exec/SFTP/direct-tcpip channels as needed. A dead link fails what is in flight with
 * NODE_UNREACHABLE, goes offline, and comes back by itself (exponential backoff with jitter);
 * a request made while offline tries at once.
 */
import type { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import type { InitializeResult } from '../../agent/protocol';
import { toVendettaError, VendettaError } from '../errors';
import { agentBundlePath } from '../home';
import { nudgeAcksWhilePending } from '../ssh/ackNudge';
import { openStreamLocal } from '../ssh/agentDirect';
import { RetrySchedule } from '../ssh/backoff';
import { exitStatus, openExec } from '../ssh/exec';
import { readLocalBundle } from '../ssh/localBundle';
import type { ProvidedRuntime } from '../ssh/provideRuntime';
import { shellCommand } from '../ssh/shellQuote';
import type { SshNodeTarget } from '../ssh/target';
import {
  agentRequest,
  type AgentClient,
  type AgentCommand,
  type AgentRequest,
  type Disposable,
  type LinkState,
  type UntypedAgentRequest,
} from './agentClient';
import { AgentEndpoints, endpointKey, endpointsFile } from './agentEndpoints';
import { openNodeLink, type NodeLink } from './nodeLink';
import { NotificationFanout } from './notificationFanout';
import { openAgentSession, type OpenedSession } from './openAgentSession';
import { PERMANENT, SLOW, type SshAgentClientOptions, type SshAgentClientStats } from './sshAgentClientOptions';
import type { NotificationType } from 'vscode-jsonrpc';

interface Session {
  attached: OpenedSession;
  lost?: VendettaError;
}

export class SshAgentClient implements AgentClient {
  readonly nodeName: string;
  lastError: VendettaError | undefined;
  lastSeen: Date | undefined;
  agent: InitializeResult | undefined;
  readonly stats: SshAgentClientStats = {
    sshConnects: 0,
    attaches: 0,
    directs: 0,
    attachProcesses: 0,
    installs: 0,
    upgrades: 0,
    lastConnectMs: 0,
  };

  private _state: LinkState = 'idle';
  private link: NodeLink | undefined;
  private session: Session | undefined;
  private connecting: Promise<Session> | undefined;
  private readonly retries: RetrySchedule;
  private closed = false;
  private readonly listeners = new Set<(state: LinkState, error?: VendettaError) => void>();
  private readonly notifications = new NotificationFanout();
  private readonly endpoints: AgentEndpoints;
  /** opts.checkHostKey until a connection succeeded with it; the pin decides afterwards. */
  private checkHostKey: SshAgentClientOptions['checkHostKey'];

  constructor(
    readonly target: SshNodeTarget,
    private readonly opts: SshAgentClientOptions,
  ) {
    this.nodeName = target.name;
    this.endpoints = new AgentEndpoints(endpointsFile(opts.paths));
    this.retries = new RetrySchedule(opts.backoff);
    this.checkHostKey = opts.checkHostKey;
  }

  get state(): LinkState {
    return this._state;
  }

  get runtimeProvided(): ProvidedRuntime | undefined {
    return this.stats.runtimeProvided;
  }

  readonly request: AgentRequest = agentRequest(async (type, ...args) => {
    const s = await this.ensureSession();
    try {
      const result = await (s.attached.agent.request as UntypedAgentRequest)(type, ...args);
      this.lastSeen = new Date();
      return result;
    } catch (err) {
      // The session's own error says "closed"; the link knows why (keep-alive timeout, reset…).
      throw s.lost ?? this.link?.lost ?? err;
    }
  });

  async connect(): Promise<InitializeResult> {
    return (await this.ensureSession()).attached.info;
  }

  /** A direct-tcpip channel to host:port as seen from the node (what `vendetta ssh-proxy` pipes). */
  async forwardOut(host: string, port: number): Promise<ClientChannel> {
    await this.ensureSession();
    const link = this.link;
    if (!link) throw this.unreachable('the connection closed');
    return new Promise((resolve, reject) => {
      link.ssh.forwardOut('127.0.0.1', 0, host, port, (err, ch) => {
        if (err)
          reject(
            new VendettaError(
              'NODE_UNREACHABLE',
              `${this.nodeName} could not open a tunnel to ${host}:${port}: ${err.message}`,
              { node: this.nodeName, cause: err },
            ),
          );
        else resolve(ch);
      });
    });
  }

  async openNodeSocket(path: string): Promise<Duplex> {
    await this.ensureSession();
    const link = this.link;
    if (link && !link.noDirect && this.opts.directToSocket !== false) return openStreamLocal(link.ssh, path);
    const why = link ? 'its sshd has AllowStreamLocalForwarding off' : 'the connection closed';
    throw new VendettaError('TUNNEL_FAILED', `${this.nodeName} allows no channel to a Unix socket: ${why}`, {
      node: this.nodeName,
    });
  }

  /** Like forwardOut, but a target that refuses (the link itself is fine) is TUNNEL_FAILED. */
  async openTcp(host: string, port: number): Promise<Duplex> {
    try {
      return await this.forwardOut(host, port);
    } catch (err) {
      if (!this.link || this.link.lost) throw err;
      const e = toVendettaError(err);
      throw new VendettaError(
        'TUNNEL_FAILED',
        `${this.nodeName} cannot connect to ${host}:${port}: ${e.cause instanceof Error ? e.cause.message : e.message}`,
        {
          node: this.nodeName,
          cause: err,
          hint: 'Is the workspace running? `vendetta workspace status` shows it; `vendetta workspace start` starts it.',
        },
      );
    }
  }

  /** `<node runtime> <installed agent.js> <args…>` on an exec channel of the pooled connection. */
  async runAgentCommand(args: string[]): Promise<AgentCommand> {
    const s = await this.ensureSession();
    const link = this.link;
    if (!link) throw this.unreachable('the connection closed');
    const command = shellCommand([...s.attached.command, ...args]);
    const channel = await openExec(link.ssh, this.nodeName, command);
    const exit = exitStatus(channel);
    return { stdin: channel, stdout: channel, stderr: channel.stderr, exit, kill: () => void channel.close() };
  }

  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): Disposable {
    return this.notifications.on(type, handler);
  }

  onStateChange(listener: (state: LinkState, error?: VendettaError) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.retries.cancel();
    const closedErr = this.unreachable('the client was closed');
    const s = this.session;
    const link = this.link;
    this.session = undefined;
    this.link = undefined;
    if (s) {
      s.lost ??= closedErr;
      s.attached.agent.dispose();
      s.attached.channel.close();
    }
    if (link) {
      link.lost ??= closedErr;
      link.ssh.end();
    }
    this.agent = undefined;
    this._state = 'offline';
    this.listeners.clear();
  }

  private unreachable(why: string, cause?: unknown): VendettaError {
    return new VendettaError('NODE_UNREACHABLE', `Lost the connection to ${this.nodeName}: ${why}`, {
      node: this.nodeName,
      hint: `It reconnects by itself when the node answers again; \`vendetta node test ${this.nodeName}\` diagnoses a link that stays down.`,
      cause,
    });
  }

  private ensureSession(): Promise<Session> {
    if (this.closed) return Promise.reject(this.unreachable('the client was closed'));
    if (this.session && !this.session.lost) return Promise.resolve(this.session);
    this.connecting ??= this.establish().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async establish(): Promise<Session> {
    const started = Date.now();
    if (this._state === 'idle') this.setState('connecting');
    let link: NodeLink | undefined;
    try {
      const bundle = await readLocalBundle(this.opts.agentBundle ?? agentBundlePath());
      link = this.link && !this.link.lost ? this.link : await this.openLink();
      const current = link;
      const attached = await openAgentSession(link.ssh, {
        node: this.nodeName,
        host: this.target.host,
        bundle,
        log: this.opts.log,
        install: this.opts.install !== false,
        runtime: this.opts.runtime,
        onStatus: this.opts.onStatus,
        endpoints: this.endpoints,
        endpointKey: endpointKey(this.target),
        tryDirect: this.opts.directToSocket !== false && !link.noDirect,
        onDirectRefused: () => (current.noDirect = true),
      });
      if (this.closed || link.lost) {
        attached.agent.dispose();
        attached.channel.close();
        throw link.lost ?? this.unreachable('the client was closed');
      }
      nudgeAcksWhilePending(attached.channel, {
        sent: () => attached.agent.sent,
        oldestPending: () => attached.agent.oldestPending,
        waiting: () => attached.agent.waiting,
      });
      const s: Session = { attached };
      this.notifications.attach(attached.agent.connection);
      attached.agent.onClose((err) => this.sessionLost(s, err));
      this.session = s;
      this.stats.attaches++;
      if (attached.via === 'direct') this.stats.directs++;
      if (attached.attachProcess) this.stats.attachProcesses++;
      if (attached.installed) this.stats.installs++;
      if (attached.upgraded) this.stats.upgrades++;
      if (attached.runtimeProvided) this.stats.runtimeProvided = attached.runtimeProvided;
      this.stats.lastConnectMs = Date.now() - started;
      this.agent = attached.info;
      this.lastSeen = new Date();
      this.lastError = undefined;
      this.retries.reset();
      this.opts.log.info('node online', {
        node: this.nodeName,
        ms: this.stats.lastConnectMs,
        via: attached.via,
        agentVersion: attached.info.agentVersion,
        pid: attached.info.pid,
        installed: attached.installed,
        upgraded: attached.upgraded,
      });
      this.setState('online');
      return s;
    } catch (err) {
      // A link that died mid-setup explains whatever half-done step failed.
      const e = link?.lost ?? toVendettaError(err);
      if (this.closed) throw e;
      this.lastError = e;
      this.setState('offline', e);
      this.scheduleReconnect(e);
      throw e;
    }
  }

  private async openLink(): Promise<NodeLink> {
    const link = await openNodeLink(this.target, {
      paths: this.opts.paths,
      log: this.opts.log,
      connectTimeoutMs: this.opts.connectTimeoutMs,
      keepaliveIntervalMs: this.opts.keepaliveIntervalMs,
      keepaliveCountMax: this.opts.keepaliveCountMax,
      unreachable: (why, cause) => this.unreachable(why, cause),
      onClose: (closed) => this.linkClosed(closed),
      ...(this.checkHostKey ? { checkHostKey: this.checkHostKey } : {}),
    });
    this.checkHostKey = undefined;
    this.stats.sshConnects++;
    if (this.closed) {
      link.ssh.end();
      throw this.unreachable('the client was closed');
    }
    this.link = link;
    return link;
  }

  private linkClosed(link: NodeLink): void {
    if (this.link !== link) return;
    this.link = undefined;
    const s = this.session;
    if (s) {
      s.lost ??= link.lost;
      this.session = undefined;
      s.attached.agent.dispose();
    }
    this.linkDown(link.lost!);
  }

  private sessionLost(s: Session, err: VendettaError): void {
    s.lost ??= this.link?.lost ?? err;
    if (this.session !== s) return;
    this.session = undefined;
    s.attached.channel.close();
    this.linkDown(s.lost);
  }

  private linkDown(err: VendettaError): void {
    if (this.closed) return;
    this.agent = undefined;
    this.lastError = err;
    this.opts.log.warn('node offline', { node: this.nodeName, error: err.message });
    this.setState('offline', err);
    this.scheduleReconnect(err);
  }

  private scheduleReconnect(err: VendettaError): void {
    if (this.closed || this.retries.pending || PERMANENT.has(err.code)) return;
    if (SLOW.has(err.code)) this.retries.skipTo(5);
    const delay = this.retries.schedule(() => this.ensureSession()); // a failure reschedules itself
    this.opts.log.debug('reconnect scheduled', { node: this.nodeName, inMs: delay, attempt: this.retries.attempts });
  }

  private setState(state: LinkState, error?: VendettaError): void {
    if (this._state === state) return;
    this._state = state;
    for (const l of [...this.listeners]) {
      try {
        l(state, error);
      } catch (err) {
        this.opts.log.error('a node state listener threw', { node: this.nodeName, error: (err as Error).message });
      }
    }
  }
}

export function createSshAgentClient(target: SshNodeTarget, opts: SshAgentClientOptions): SshAgentClient {
  return new SshAgentClient(target, opts);
}
