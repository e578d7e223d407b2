/**
 * The agent's services replies, validated at the boundary: a foreign or broken agent gets a clear
 * AGENT_ERROR here, not a crash in a table later.
 */
import { isObj } from '../../common/json/shape';
import { isIP } from 'node:net';
import {
  NAME_PATTERN,
  type ServiceLogLine,
  type WorkspaceDetectedPorts,
  type WorkspaceServicesStatus,
} from '../../agent/protocol';
import { VendettaError } from '../errors';

const STATES = new Set([
  'waiting',
  'starting',
  'running',
  'healthy',
  'unhealthy',
  'restarting',
  'crashloop',
  'exited',
  'stopped',
]);
const STREAMS = new Set(['stdout', 'stderr', 'system']);

function bad(what: string, node: string): never {
  throw new VendettaError('AGENT_ERROR', `The agent on ${node} sent malformed services data (${what})`, {
    node,
    hint: 'Upgrade vendetta so the coordinator and the agent match.',
  });
}

const isPort = (v: unknown) => v === undefined || (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535);

export function checkServicesStatus(raw: unknown, node: string): WorkspaceServicesStatus {
  if (!isObj(raw)) bad('not an object', node);
  if (typeof raw.workspace !== 'string') bad('workspace', node);
  if (!Array.isArray(raw.services)) bad('services', node);
  for (const s of raw.services as unknown[]) {
    if (!isObj(s) || typeof s.name !== 'string') bad('a service without a name', node);
    if (!STATES.has(s.state as string)) bad(`state of ${s.name}`, node);
    if (!isPort(s.port) || !isPort(s.nodePort)) bad(`ports of ${s.name}`, node);
    if (typeof s.restarts !== 'number') bad(`restarts of ${s.name}`, node);
  }
  if (raw.hooks !== undefined && !isObj(raw.hooks)) bad('hooks', node);
  return raw as unknown as WorkspaceServicesStatus;
}

export function checkLogLines(raw: unknown, node: string): ServiceLogLine[] {
  if (!Array.isArray(raw)) bad('log lines are not a list', node);
  for (const l of raw as unknown[]) {
    if (
      !isObj(l) ||
      typeof l.time !== 'string' ||
      typeof l.service !== 'string' ||
      typeof l.line !== 'string' ||
      !STREAMS.has(l.stream as string)
    )
      bad('a log line', node);
  }
  return raw as ServiceLogLine[];
}

export function checkNodePort(raw: unknown, node: string): { nodePort: number; host?: string } {
  if (!isObj(raw) || raw.nodePort === undefined || !isPort(raw.nodePort)) bad('a node port', node);
  if (raw.host !== undefined && (typeof raw.host !== 'string' || isIP(raw.host) === 0)) bad('a node port', node);
  return { nodePort: raw.nodePort as number, ...(raw.host !== undefined ? { host: raw.host as string } : {}) };
}

export function checkDetectedPorts(raw: unknown, node: string): WorkspaceDetectedPorts {
  const ok =
    isObj(raw) &&
    typeof raw.workspace === 'string' &&
    NAME_PATTERN.test(raw.workspace) &&
    typeof raw.running === 'boolean' &&
    Array.isArray(raw.ports) &&
    raw.ports.every(
      (p: unknown) => isObj(p) && p.port !== undefined && isPort(p.port) && typeof p.loopbackOnly === 'boolean',
    );
  if (!ok) bad('the ports listening in a workspace', node);
  const r = raw as unknown as WorkspaceDetectedPorts;
  return {
    workspace: r.workspace,
    running: r.running,
    ports: r.ports.map((p) => ({ port: p.port, loopbackOnly: p.loopbackOnly })),
  };
}
