/**
 * Notices TCP ports that start or stop listening inside running workspaces (a dev server started
 * by hand) and tells the daemon's clients. One `cat /proc/net/tcp{,6}` through the provider's
 * exec per running workspace per interval (every provider answers it the same way, from the
 * workspace's own network namespace), and only while a client is connected: nobody is told
 * otherwise, and `ports/detect` reads afresh on request anyway.
 */
import type { Logger } from '../log/logger';
import type { DetectedPort, WorkspaceDetectedPorts } from '../protocol';
import type { WorkspaceProvider } from '../providers/contract';
import { parseProcNetTcp, type Listener } from '../services/listeners';

export interface PortWatchTarget {
  name: string;
  provider: WorkspaceProvider;
  providerId: string;
}

export interface PortWatchDeps {
  logger: Logger;
  /** The workspaces made and left running. */
  targets(): PortWatchTarget[];
  /** Whether anyone would hear a change (a client is connected). */
  watching(): boolean;
  broadcast(ports: WorkspaceDetectedPorts): void;
}

/** The workspace's SSH server (every provider's): not a port anyone asked to see. */
const SSH_PORT = 22;
/** `2>/dev/null; exit 0`: a kernel without IPv6 has no tcp6, which is not a failure. */
const READ_ARGV = ['sh', '-c', 'cat /proc/net/tcp /proc/net/tcp6 2>/dev/null; exit 0'];
/**
 * One look per workspace every 10 s. Each look is an exec, and an exec costs the workspace's own
 * CPU account (measured on Docker here: ~60 ms of the container's cgroup each, mostly the
 * runtime's exec setup): every 2 s that was 3 % of a CPU per workspace, enough to keep an idle
 * workspace above the idle watch's threshold. `workspace ports` asks afresh, whatever the interval.
 */
export const PORT_WATCH_INTERVAL_MS = 10_000;

/** Each listening port once, in order; loopback-only when no listener on it is reachable from outside. */
export function detectedPorts(listeners: readonly Listener[], agentOnlyPorts: readonly number[] = []): DetectedPort[] {
  const byPort = new Map<number, boolean>();
  for (const l of listeners) {
    if (l.port === SSH_PORT || agentOnlyPorts.includes(l.port)) continue;
    byPort.set(l.port, (byPort.get(l.port) ?? true) && l.scope === 'loopback');
  }
  return [...byPort].sort(([a], [b]) => a - b).map(([port, loopbackOnly]) => ({ port, loopbackOnly }));
}

export class PortWatch {
  /** What each workspace's clients were last told. */
  private readonly told = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(private readonly deps: PortWatchDeps) {}

  start(intervalMs = PORT_WATCH_INTERVAL_MS): void {
    this.timer ??= setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round over the running workspaces; a workspace that stopped is told as running: false once. */
  async tick(): Promise<void> {
    if (this.ticking || !this.deps.watching()) return;
    this.ticking = true;
    try {
      const live = new Set<string>();
      for (const t of this.deps.targets()) {
        live.add(t.name);
        try {
          this.note({ workspace: t.name, running: true, ports: await this.read(t) });
        } catch (err) {
          // A workspace stopping under the look: the next round (or the stop itself) tells.
          this.deps.logger.debug('could not read the listening ports of a workspace', { workspace: t.name, err });
        }
      }
      for (const name of [...this.told.keys()])
        if (!live.has(name)) this.note({ workspace: name, running: false, ports: [] });
    } finally {
      this.ticking = false;
    }
  }

  /** `ports/detect`: read now (clients hear a change too). */
  async detect(name: string, target: PortWatchTarget | undefined): Promise<WorkspaceDetectedPorts> {
    const out: WorkspaceDetectedPorts = target
      ? { workspace: name, running: true, ports: await this.read(target) }
      : { workspace: name, running: false, ports: [] };
    this.note(out);
    return out;
  }

  private async read(t: PortWatchTarget): Promise<DetectedPort[]> {
    const r = await t.provider.exec(t.providerId, READ_ARGV, { user: 'root', timeoutMs: 10_000 });
    if (!r.stdout.includes('local_address'))
      throw new Error(`no /proc/net/tcp in the workspace (exit ${r.exitCode}: ${r.stderr.trim().slice(0, 200)})`);
    return detectedPorts(parseProcNetTcp(r.stdout), t.provider.agentOnlyPorts);
  }

  private note(p: WorkspaceDetectedPorts): void {
    const key = JSON.stringify([p.running, p.ports]);
    if (this.told.get(p.workspace) === key) return;
    if (p.running) this.told.set(p.workspace, key);
    else if (!this.told.delete(p.workspace)) return;
    this.deps.broadcast(p);
  }
}
