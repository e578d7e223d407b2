/** How a managed node looks on the wire: NodeSummary (`node list`) and NodeStatus (`node status`). */
import { userInfo } from 'node:os';
import type { NodeInfo, ProvidersInfo } from '../../agent/protocol';
import type { NodeEntry } from '../config/nodes';
import type { VendettaError } from '../errors';
import type {
  NodeProviders,
  NodeRuntimeInfo,
  NodeState,
  NodeStatus,
  NodeSummary,
  NodeSystem,
  NodeTransport,
} from '../protocol';
import { isUploadedRuntime } from '../ssh/runtimeUpload';
import type { AgentClient } from './agentClient';

/** A registry entry with its defaults filled in. */
export interface ResolvedNode {
  name: string;
  host: string;
  port: number;
  user: string;
  identity?: string;
  hostKey?: string;
  transport: NodeTransport;
  runtime?: 'upload' | 'package';
  labels?: Record<string, string>;
}

export const DEFAULT_SSH_PORT = 22;

export function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

export function resolveEntry(entry: NodeEntry): ResolvedNode {
  const transport: NodeTransport = entry.transport ?? 'ssh';
  const r: ResolvedNode = {
    name: entry.name,
    host: entry.host,
    port: transport === 'local' ? 0 : (entry.port ?? DEFAULT_SSH_PORT),
    user: entry.user ?? localUser(),
    transport,
  };
  if (entry.identity !== undefined) r.identity = entry.identity;
  if (entry.hostKey !== undefined) r.hostKey = entry.hostKey;
  if (entry.runtime !== undefined) r.runtime = entry.runtime;
  if (entry.labels !== undefined) r.labels = { ...entry.labels };
  return r;
}

/** Whether two entries need different links (a label change does not). */
export function sameLink(a: ResolvedNode, b: ResolvedNode): boolean {
  return (
    a.host === b.host &&
    a.port === b.port &&
    a.user === b.user &&
    a.identity === b.identity &&
    a.transport === b.transport
  );
}

/** What the coordinator remembers about a node between requests. */
export interface NodeFacts {
  info?: NodeInfo;
  latencyMs: number | null;
  /** The last failure of a request to this node, when the link itself has no error. */
  error?: VendettaError;
}

export function nodeState(client: AgentClient): NodeState {
  if (client.state === 'online') return 'online';
  if (client.state === 'offline') return 'offline';
  return 'unknown';
}

export function toSummary(node: ResolvedNode, client: AgentClient, facts: NodeFacts): NodeSummary {
  const status = nodeState(client);
  const summary: NodeSummary = {
    name: node.name,
    host: node.host,
    port: node.port,
    user: node.user,
    transport: node.transport,
    status,
    latencyMs: status === 'online' ? facts.latencyMs : null,
    agentVersion: client.agent?.agentVersion ?? facts.info?.agentVersion ?? null,
    providers: facts.info ? toProviders(facts.info.providers) : null,
    lastSeen: client.lastSeen ? client.lastSeen.toISOString() : null,
  };
  if (node.labels && Object.keys(node.labels).length > 0) summary.labels = { ...node.labels };
  const err = status === 'online' ? undefined : (client.lastError ?? facts.error);
  if (err) {
    summary.error = { code: err.code, message: err.message };
    if (err.hint) summary.error.hint = err.hint;
  }
  return summary;
}

export function toStatus(summary: NodeSummary, info: NodeInfo | undefined, runtime?: NodeRuntimeInfo): NodeStatus {
  const s: NodeStatus = { ...summary, system: info ? toSystem(info) : null };
  if (runtime) s.runtime = runtime;
  return s;
}

/**
 * Which Node.js the agent runs on: its path and version (as the agent reported them) and where it
 * came from — an upload of vendetta's (its path says so), the package manager (nodes.yaml says
 * so), or the node's own.
 */
export function runtimeOf(
  node: ResolvedNode,
  client: AgentClient,
  info: NodeInfo | undefined,
): NodeRuntimeInfo | undefined {
  const path = client.agent?.execPath;
  const version = info?.system.nodeVersion;
  if (!path || !version) return undefined;
  const source = isUploadedRuntime(path) ? 'upload' : node.runtime === 'package' ? 'package' : 'node';
  return { source, path, version };
}

function toProviders(p: ProvidersInfo): NodeProviders {
  const pick = (s: { available: boolean; version?: string; error?: string }) => {
    const out: { available: boolean; version?: string; error?: string } = { available: s.available };
    if (s.version !== undefined) out.version = s.version;
    if (s.error !== undefined) out.error = s.error;
    return out;
  };
  return {
    docker: pick(p.docker),
    lxc: {
      ...pick(p.lxc),
      ...(p.lxc.projectFolder ? { projectFolder: p.lxc.projectFolder } : {}),
      ...(p.lxc.cluster ? { cluster: p.lxc.cluster.map((m) => ({ ...m, roles: [...m.roles] })) } : {}),
    },
    qemu: { ...pick(p.qemu), kvm: p.qemu.kvm },
  };
}

function toSystem(info: NodeInfo): NodeSystem {
  const s = info.system;
  return {
    hostname: s.hostname,
    os: s.os,
    arch: s.arch,
    kernel: s.kernel,
    cpus: s.cpus,
    memoryTotalBytes: s.memoryTotalBytes,
    memoryAvailableBytes: s.memoryAvailableBytes,
    diskFreeBytes: s.diskFreeBytes,
    diskTotalBytes: s.diskTotalBytes,
    load: s.load,
    uptimeSeconds: s.uptimeSeconds,
    nodeVersion: s.nodeVersion,
  };
}
