/**
 * Stops a workspace that has been idle for its `idleTimeoutMs`: no connection from outside it
 * (an SSH session, a forwarded port, an `exec`, which runs over SSH), no more CPU used than a small
 * threshold, and no thread runnable (running or waiting for a CPU) nearly all the time between two
 * looks. The last one tells a CPU-bound process on a loaded node, which may get less CPU than the
 * threshold while it waits for its turn. Decided here on the node, so it works while the laptop is
 * closed. An agent restart starts the count again (the workspace gets a whole timeout more).
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../log/logger';
import type { ProviderWorkspace, WorkspaceProvider } from '../providers/contract';
import {
  ACTIVITY_PROBE,
  busiestThreadShare,
  nodePortConnections,
  outsideConnections,
  parseActivity,
  parseProcNetTcp,
  processCpuShare,
  type TcpSocket,
  type ThreadTimes,
} from './activity';
import { boundByNode, type VmNodeUsage } from './hostUsage';

/** What the watch needs of one running workspace. */
export interface IdleCandidate {
  name: string;
  idleTimeoutMs: number;
  provider: WorkspaceProvider;
  providerId: string;
}

export interface IdleWatchDeps {
  logger: Logger;
  /** Workspaces with an idle timeout that should be running (ready, not stopped on purpose). */
  candidates(): IdleCandidate[];
  stop(name: string): Promise<unknown>;
  /** A fraction of one CPU used; above it the workspace is busy (default 0.1). */
  cpuThreshold?: number;
  /**
   * A share of the time between looks: a thread runnable (running or waiting for a CPU) at least
   * this much of it is CPU-bound, and the workspace busy however little CPU it got (default 0.9).
   * High, because on a loaded node a thread that sleeps between bits of work also waits for a
   * CPU at each wake-up; only a thread that never sleeps is runnable nearly all the time.
   */
  cpuBoundShare?: number;
  now?: () => number;
  /** The node's TCP sockets, as the agent's network namespace sees them (default: /proc/self/net). */
  nodeSockets?: () => Promise<TcpSocket[]>;
}

async function readNodeSockets(): Promise<TcpSocket[]> {
  const tables = await Promise.all(
    ['/proc/self/net/tcp', '/proc/self/net/tcp6'].map((p) => readFile(p, 'utf8').catch(() => '')),
  );
  return parseProcNetTcp(tables.join('\n'));
}

/** The node ports a user reaches the workspace at: its published ports but the agent's own. */
function userNodePorts(ws: ProviderWorkspace, agentOnlyPorts: readonly number[] = []): Set<number> {
  const out = new Set<number>();
  for (const [guest, node] of Object.entries(ws.publishedPorts ?? {}))
    if (!agentOnlyPorts.includes(Number(guest))) out.add(node);
  return out;
}

interface Seen {
  /** When it was last seen busy (or first seen). */
  activeAt: number;
  cpuUsec?: number;
  threads?: ThreadTimes;
  machineBusyUsec?: number;
  /** The VM's process on the node, read right after the probe. */
  node?: VmNodeUsage;
  at: number;
  nextLookAt: number;
}

/**
 * How many times the CPU threshold a VM whose CPU is emulated (TCG) gets: its code runs several
 * times slower (~10×), so the same work takes that much more of its CPU. Measured on the example
 * project's VM under TCG on a loaded node: its three services answering their 0.5–1 s health checks
 * used 0.09–0.23 of a CPU, nobody connected. Work that wants the CPU all along is told apart anyway.
 */
const EMULATED_CPU_FACTOR = 3;

/**
 * How often a workspace is looked at: often enough to stop it within ~1/6 of its timeout late, and
 * at most every 5 s, because each look is an exec charged to the workspace's own CPU (~60 ms on
 * Docker here, more on a loaded node): looked at every second, that alone neared the threshold.
 */
export function lookIntervalMs(idleTimeoutMs: number): number {
  return Math.min(30_000, Math.max(5_000, Math.floor(idleTimeoutMs / 6)));
}

export class IdleWatch {
  private readonly seen = new Map<string, Seen>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(private readonly deps: IdleWatchDeps) {}

  start(tickMs = 1_000): void {
    this.timer ??= setInterval(() => void this.tick(), tickMs);
    this.timer.unref();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round: looks at each workspace whose turn it is; stops the ones idle for long enough. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = this.deps.now ?? Date.now;
      const live = new Set<string>();
      for (const c of this.deps.candidates()) {
        live.add(c.name);
        const prev = this.seen.get(c.name);
        if (prev && now() < prev.nextLookAt) continue;
        try {
          await this.look(c, prev, now);
        } catch (err) {
          // Not knowing is not idle: the count starts again at the next look that works.
          this.seen.delete(c.name);
          this.deps.logger.debug('could not tell whether a workspace is idle', { workspace: c.name, err });
        }
      }
      for (const name of this.seen.keys()) if (!live.has(name)) this.seen.delete(name);
    } finally {
      this.ticking = false;
    }
  }

  private async look(c: IdleCandidate, prev: Seen | undefined, now: () => number): Promise<void> {
    const ws = await c.provider.inspect(c.providerId);
    if (ws?.state !== 'running') {
      this.seen.delete(c.name);
      return;
    }
    const r = await c.provider.exec(c.providerId, ACTIVITY_PROBE, { user: 'root', timeoutMs: 10_000 });
    const t = now();
    const a = parseActivity(r.stdout);
    // Where a proxy connects from the workspace's own loopback, the node side shows the user's.
    const nodePorts =
      c.provider.publishedPortsArrive === 'loopback' ? userNodePorts(ws, c.provider.agentOnlyPorts) : undefined;
    const connections =
      outsideConnections(a.sockets, c.provider.agentOnlyPorts) +
      (nodePorts?.size ? nodePortConnections(await (this.deps.nodeSockets ?? readNodeSockets)(), nodePorts) : 0);
    // Probed over a session inside (a VM), the agent's own execs (health checks, services' checks,
    // this probe) are processes there too, short-lived ones: only processes seen at both looks
    // count, with what their children used (a build's compiler runs reaped by `make`).
    const viaSession = a.threads?.viaSession === true;
    let cpu =
      viaSession && prev?.threads
        ? processCpuShare(prev.threads, a.threads!, false)
        : prev?.cpuUsec !== undefined && a.cpuUsec !== undefined && t > prev.at
          ? (a.cpuUsec - prev.cpuUsec) / 1000 / (t - prev.at)
          : undefined;
    let cpuBound = prev?.threads && a.threads ? busiestThreadShare(prev.threads, a.threads, !viaSession) : 0;
    const node = viaSession ? await c.provider.nodeUsage?.(c.providerId) : undefined;
    // A VM's guest counts the node's waits as its own work: bounded by what the node gave it.
    const guestMs = prev?.threads && a.threads ? a.threads.atMs - prev.threads.atMs : 0;
    if (cpu !== undefined && node && prev?.node && guestMs > 0 && a.machineBusyUsec !== undefined) {
      const machine = (a.machineBusyUsec - (prev.machineBusyUsec ?? a.machineBusyUsec)) / 1000 / guestMs;
      ({ cpu, busiestThread: cpuBound } = boundByNode({ cpu, busiestThread: cpuBound, machine }, prev.node, node));
    }
    const started = ws.startedAt ? Date.parse(ws.startedAt) : NaN;
    const threshold = (this.deps.cpuThreshold ?? 0.1) * (node?.emulated ? EMULATED_CPU_FACTOR : 1);
    const busy =
      !prev ||
      connections > 0 ||
      (cpu !== undefined && cpu > threshold) ||
      cpuBound >= (this.deps.cpuBoundShare ?? 0.9);
    this.deps.logger.debug('looked at a workspace for the idle watch', {
      workspace: c.name,
      connections,
      cpu,
      cpuBound,
      busy,
    });
    let activeAt = busy ? t : prev.activeAt;
    // A workspace started since the last look (a connection woke it) begins a whole new timeout.
    if (Number.isFinite(started) && started > activeAt) activeAt = Math.min(t, started);
    const next: Seen = {
      activeAt,
      at: t,
      nextLookAt: t + lookIntervalMs(c.idleTimeoutMs),
      ...(a.cpuUsec !== undefined ? { cpuUsec: a.cpuUsec } : {}),
      ...(a.threads ? { threads: a.threads } : {}),
      ...(a.machineBusyUsec !== undefined ? { machineBusyUsec: a.machineBusyUsec } : {}),
      ...(node ? { node } : {}),
    };
    this.seen.set(c.name, next);
    if (t - activeAt < c.idleTimeoutMs) return;
    this.deps.logger.info('stopping an idle workspace', {
      workspace: c.name,
      idleMs: t - activeAt,
      idleTimeoutMs: c.idleTimeoutMs,
    });
    this.seen.delete(c.name);
    await this.deps.stop(c.name);
  }
}
