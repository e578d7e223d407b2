/** Test doubles for the node manager: an AgentClient and an SSH layer without any network. */
import { createHash } from 'node:crypto';
import type { InitializeResult, NodeInfo } from '../../../agent/protocol';
import { VendettaError } from '../../../coordinator/errors';
import type { Logger } from '../../../coordinator/log';
import type { Duplex } from 'node:stream';
import type { AgentClient, AgentCommand, Disposable, LinkState } from '../../../coordinator/nodes/agentClient';
import type {
  AgentClientOptions,
  HostKey,
  IdentityInfo,
  SshLayer,
  SshNodeTarget,
} from '../../../coordinator/nodes/sshLayer';
import type { PrepareProvider, TestStep } from '../../../coordinator/protocol';
import type { PrepareOutcome } from '../../../coordinator/ssh/prepare';

export const nullLog: Logger = {
  log: () => undefined,
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};

export function nodeInfo(hostname: string): NodeInfo {
  return {
    agentVersion: '0.1.0',
    system: {
      hostname,
      os: 'Debian GNU/Linux 12',
      arch: 'x86_64',
      kernel: '6.1.0',
      cpus: 2,
      memoryTotalBytes: 4e9,
      memoryAvailableBytes: 3e9,
      diskFreeBytes: 1e10,
      diskTotalBytes: 2e10,
      load: [0.1, 0.2, 0.3],
      uptimeSeconds: 100,
      nodeVersion: 'v20.0.0',
    },
    providers: {
      docker: { available: true, version: '24.0' },
      lxc: { available: false, error: 'no lxc' },
      qemu: { available: true, version: '7.2', kvm: false },
    },
  };
}

/** How a fake node behaves when connected to. */
export type Behaviour = 'ok' | 'auth-fail' | 'hang' | 'down';

export class FakeAgentClient implements AgentClient {
  state: LinkState = 'idle';
  lastError: VendettaError | undefined;
  lastSeen: Date | undefined;
  agent: InitializeResult | undefined;
  closed = false;
  connects = 0;
  private readonly listeners = new Set<(s: LinkState, e?: VendettaError) => void>();

  constructor(
    readonly nodeName: string,
    public behaviour: Behaviour = 'ok',
    /** Like the real client's: the first connection's host key goes to it instead of the pin. */
    private checkHostKey?: { presented: () => HostKey | undefined; check: (k: HostKey) => Promise<void> },
  ) {}

  async connect(): Promise<InitializeResult> {
    if (this.state === 'online' && this.agent) return this.agent;
    this.connects++;
    this.set('connecting');
    if (this.behaviour === 'hang') return new Promise(() => undefined);
    const first = this.checkHostKey;
    if (first && this.behaviour !== 'down') {
      const k = first.presented();
      if (!k)
        throw new VendettaError('NODE_UNREACHABLE', `Cannot reach ${this.nodeName}`, { hint: 'check the network' });
      await first.check(k);
      this.checkHostKey = undefined;
    }
    if (this.behaviour !== 'ok') {
      const e =
        this.behaviour === 'auth-fail'
          ? new VendettaError('AUTH_FAILED', `dev@${this.nodeName} refused the SSH key`, {
              node: this.nodeName,
              hint: 'install the key',
            })
          : new VendettaError('NODE_UNREACHABLE', `Cannot reach ${this.nodeName}`, {
              node: this.nodeName,
              hint: 'check the network',
            });
      this.lastError = e;
      this.set('offline', e);
      throw e;
    }
    this.agent = {
      protocolVersion: 1,
      agentVersion: '0.1.0',
      buildId: 'test',
      pid: 4242,
      startedAt: new Date().toISOString(),
    };
    this.lastSeen = new Date();
    this.lastError = undefined;
    this.set('online');
    return this.agent;
  }

  async request(type: { method: string }): Promise<never> {
    await this.connect();
    this.lastSeen = new Date();
    if (type.method === 'agent/ping') return { now: Date.now() } as never;
    if (type.method === 'node/inspect') return nodeInfo(this.nodeName) as never;
    throw new Error(`unexpected request ${type.method}`);
  }

  /** Simulates the link dying. */
  drop(): void {
    const e = new VendettaError('NODE_UNREACHABLE', `Lost the connection to ${this.nodeName}`, { node: this.nodeName });
    this.agent = undefined;
    this.lastError = e;
    this.set('offline', e);
  }

  onStateChange(listener: (s: LinkState, e?: VendettaError) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  // The node manager never streams; workspace tests have their own fake agent.
  async runAgentCommand(): Promise<AgentCommand> {
    throw new Error('this fake runs no agent commands');
  }
  async openTcp(): Promise<Duplex> {
    throw new Error('this fake opens no tunnels');
  }
  onNotification(): Disposable {
    return { dispose: () => undefined };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.state = 'offline';
  }

  private set(state: LinkState, e?: VendettaError): void {
    if (state === this.state) return;
    this.state = state;
    for (const l of [...this.listeners]) l(state, e);
  }
}

export function fakeKey(seed: string): HostKey {
  const type = Buffer.from('ssh-ed25519');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(type.length);
  const key = Buffer.concat([len, type, createHash('sha256').update(seed).digest()]);
  return {
    keyType: 'ssh-ed25519',
    key,
    fingerprint: 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, ''),
  };
}

export class FakeSsh implements SshLayer {
  /** The key each host:port presents. */
  readonly presented = new Map<string, HostKey>();
  readonly pins = new Map<string, HostKey>();
  readonly behaviours = new Map<string, Behaviour>();
  readonly clients: FakeAgentClient[] = [];
  readonly purged: string[] = [];
  identity: IdentityInfo = { useAgent: true, generated: false };
  /** Connections opened only to read a host key. */
  probes = 0;

  async probeHostKey(host: string, port: number): Promise<HostKey> {
    this.probes++;
    const k = this.presented.get(`${host}:${port}`);
    if (!k) throw new VendettaError('NODE_UNREACHABLE', `Cannot reach ${host}:${port}`, { hint: 'check the network' });
    return k;
  }
  lookupPin(host: string, port: number): HostKey | undefined {
    return this.pins.get(`${host}:${port}`);
  }
  async pin(host: string, port: number, key: HostKey): Promise<void> {
    this.pins.set(`${host}:${port}`, key);
  }
  async unpin(host: string, port: number): Promise<void> {
    this.pins.delete(`${host}:${port}`);
  }
  async ensureIdentity(): Promise<IdentityInfo> {
    return this.identity;
  }
  createAgentClient(target: SshNodeTarget, opts: AgentClientOptions): FakeAgentClient {
    const check = opts.checkHostKey;
    const c = new FakeAgentClient(
      target.name,
      this.behaviours.get(target.host) ?? 'ok',
      check && { presented: () => this.presented.get(`${target.host}:${target.port}`), check },
    );
    this.clients.push(c);
    return c;
  }
  async diagnose(target: SshNodeTarget): Promise<TestStep[]> {
    return [{ name: `DNS + TCP ${target.host}:${target.port}`, ok: true, detail: 'answered', elapsedMs: 1 }];
  }
  async purge(target: SshNodeTarget): Promise<void> {
    this.purged.push(target.name);
  }
  readonly prepared: string[] = [];
  async prepare(
    target: SshNodeTarget,
    provider: PrepareProvider,
    opts: { dryRun: boolean; announce: (i: number, n: number, title: string, command: string) => void },
  ): Promise<PrepareOutcome> {
    this.prepared.push(`${target.name}:${provider}${opts.dryRun ? ':dry' : ''}`);
    opts.announce(1, 1, `install ${provider}`, `sudo apt-get install ${provider}`);
    return {
      steps: [
        {
          title: `install ${provider}`,
          command: `sudo apt-get install ${provider}`,
          status: opts.dryRun ? 'planned' : 'ran',
        },
      ],
      privilege: 'sudo',
      system: 'Debian (x86_64), apt, as dev via sudo',
    };
  }
}
