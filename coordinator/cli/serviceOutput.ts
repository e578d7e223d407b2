/** How services, ports, forwards and log lines read on a terminal (--json prints the protocol types). */
import type { ForwardInfo, PortInfo, ServiceLogLine, ServiceStatus } from '../protocol';
import { clockTime } from '../timeText';
import { formatTable } from './output';
import { terminalSafe } from './terminalText';

const BAD = new Set(['unhealthy', 'crashloop', 'exited', 'stopped']);
const EXIT_STATES = new Set(['exited', 'crashloop', 'restarting']);

/** True when a service will not get better on its own (for exit codes). */
export function anyServiceFailed(services: readonly ServiceStatus[]): boolean {
  return services.some((s) => BAD.has(s.state));
}

export function failedServices(services: readonly ServiceStatus[]): ServiceStatus[] {
  return services.filter((s) => BAD.has(s.state));
}

export function formatServices(services: readonly ServiceStatus[]): string {
  if (services.length === 0) return 'no services\n';
  return formatTable(services, [
    { header: 'service', value: (s) => s.name },
    { header: 'state', value: (s) => s.state },
    { header: 'port', value: (s) => (s.port !== undefined ? String(s.port) : '-') },
    { header: 'node port', value: (s) => (s.nodePort !== undefined ? String(s.nodePort) : '-') },
    { header: 'restarts', value: (s) => String(s.restarts) },
    { header: 'why', value: (s) => serviceWhy(s) },
  ]);
}

export function serviceWhy(s: ServiceStatus): string {
  const parts: string[] = [];
  if (s.reason) parts.push(s.reason);
  if (s.lastCheck && !s.lastCheck.ok && (s.state === 'starting' || s.state === 'unhealthy'))
    parts.push(`last check: ${oneLine(s.lastCheck.output)}`);
  // Only an exit that is this state's cause: never the stop's SIGTERM (143) of an earlier run.
  if (
    s.exitCode !== undefined &&
    s.exitCode !== null &&
    EXIT_STATES.has(s.state) &&
    !s.reason?.includes(`code ${s.exitCode}`)
  )
    parts.push(`exit ${s.exitCode}`);
  return parts.join('; ') || '-';
}

function oneLine(s: string): string {
  const l = s.replace(/\s+/g, ' ').trim();
  return l.length > 80 ? `${l.slice(0, 77)}...` : l;
}

export function formatPorts(rows: readonly PortInfo[]): string {
  if (rows.length === 0) return 'no ports: no service port, no forwardPorts, nothing listening\n';
  return formatTable(rows, [
    { header: 'port', value: (r) => String(r.port) },
    { header: 'source', value: (r) => r.source },
    { header: 'service', value: (r) => r.service ?? '-' },
    { header: 'label', value: (r) => r.label ?? '-' },
    { header: 'state', value: portState },
    { header: 'node port', value: (r) => (r.nodePort !== undefined ? String(r.nodePort) : '-') },
    {
      header: 'url',
      value: (r) =>
        r.url === undefined ? '-' : r.localPort !== undefined ? `${r.url} (forwarded)` : `${r.url} (on the node)`,
    },
  ]);
}

function portState(r: PortInfo): string {
  if (r.health !== undefined) return r.health;
  if (r.listening === undefined) return '-';
  if (!r.listening) return 'not listening';
  return r.loopbackOnly ? 'listening (127.0.0.1 only)' : 'listening';
}

export function forwardLine(f: ForwardInfo): string {
  return `Forwarding http://127.0.0.1:${f.localPort} → ${f.workspace}:${f.port} (node ${f.node})`;
}

export function formatForwards(rows: readonly ForwardInfo[]): string {
  if (rows.length === 0) return 'no forwarded ports\n';
  return formatTable(rows, [
    { header: 'workspace', value: (f) => f.workspace },
    { header: 'node', value: (f) => f.node },
    { header: 'port', value: (f) => String(f.port) },
    { header: 'here', value: (f) => f.url },
    {
      header: 'until',
      value: (f) => (f.kept ? '`workspace forward --stop` or `workspace rm`' : 'its `workspace forward` ends'),
    },
  ]);
}

/**
 * Log lines as `HH:MM:SS.mmm service | line`, the service labels aligned (the column widens when a
 * longer name shows up); with one service named, `HH:MM:SS.mmm line`.
 */
export class LogFormatter {
  private width: number;

  constructor(
    private readonly labelled: boolean,
    names: readonly string[] = [],
  ) {
    this.width = Math.max(0, ...names.map((n) => n.length));
  }

  format(l: ServiceLogLine): string {
    const text = terminalSafe(l.line.replace(/\r?\n$/, ''));
    if (!this.labelled) return `${clockTime(l.time)} ${text}`;
    this.width = Math.max(this.width, l.service.length);
    return `${clockTime(l.time)} ${l.service.padEnd(this.width)} | ${text}`;
  }
}
