/**
 * What the Remote Nodes tree shows, computed from coordinator data: labels, descriptions,
 * icons, tooltips and contextValues. Pure (no vscode import): NodesTreeItem.ts turns these
 * specs into TreeItems, and the unit tests check them directly.
 */
import type {
  LxdMemberSummary,
  NodeStatus,
  NodeSummary,
  NodeSystem,
  PortInfo,
  ServiceStatus,
  WorkspaceSummary,
} from '../../../coordinator/protocol';
import { COMMAND } from '../../commands/ids';

export const LOCAL_NODE = 'local';

/** The elements of the tree; commands receive these from context menus. */
export type TreeElement =
  | { kind: 'node'; node: NodeSummary }
  /** The members of a node's LXD cluster, grouped under one row (clusterTreeModel.ts). */
  | { kind: 'cluster'; node: NodeSummary; members: LxdMemberSummary[] }
  | { kind: 'member'; node: NodeSummary; member: LxdMemberSummary; workspaces: WorkspaceSummary[] }
  | { kind: 'workspace'; workspace: WorkspaceSummary }
  | { kind: 'service'; workspace: WorkspaceSummary; service: ServiceStatus; port?: PortInfo }
  /** A `forwardPorts` entry or a port found listening inside (service ports show on their service). */
  | { kind: 'port'; workspace: WorkspaceSummary; port: PortInfo }
  | { kind: 'message'; id: string; label: string; detail?: string; hint?: string; severity: 'error' | 'info' };

/** Every contextValue the tree sets; package.json's menus match on these (a unit test checks). */
export const CONTEXT_VALUES = [
  'onlineNode',
  'offlineNode',
  'unknownNode',
  'localNode',
  'lxdCluster',
  'onlineMember',
  'unavailableMember',
  'runningWorkspace',
  'stoppedWorkspace',
  'creatingWorkspace',
  'errorWorkspace',
  'missingWorkspace',
  'healthyService',
  'unhealthyService',
  'startingService',
  'stoppedService',
  'detectedPort',
  'configuredPort',
  'forwardedPort',
  'errorMessage',
  'infoMessage',
] as const;
export type ContextValue = (typeof CONTEXT_VALUES)[number];
export type NodeContext = Extract<ContextValue, `${string}Node`>;
export type WorkspaceContext = Extract<ContextValue, `${string}Workspace`>;
export type ServiceContext = Extract<ContextValue, `${string}Service`>;
export type PortContext = Extract<ContextValue, `${string}Port`>;
export type MemberContext = Extract<ContextValue, `${string}Member`>;

export interface IconSpec {
  /** A codicon id (`vm-running`, `loading~spin`). */
  id: string;
  /** A theme color id (`charts.green`). */
  color?: string;
}

export interface ItemSpec {
  id: string;
  label: string;
  description?: string;
  /** Markdown. */
  tooltip: string;
  icon: IconSpec;
  contextValue: ContextValue;
  collapsible: 'none' | 'collapsed' | 'expanded';
  command?: { command: string; title: string; arguments: unknown[] };
}

const PROVIDERS = ['docker', 'lxc', 'qemu'] as const;

export function availableProviders(n: NodeSummary): string[] {
  const p = n.providers;
  if (!p) return [];
  return PROVIDERS.filter((k) => p[k].available);
}

export function nodeContext(n: NodeSummary): NodeContext {
  if (n.transport === 'local' || n.name === LOCAL_NODE) return 'localNode';
  if (n.status === 'online') return 'onlineNode';
  if (n.status === 'offline') return 'offlineNode';
  return 'unknownNode';
}

/** `online · 4 ms · docker lxc`, `offline · connection refused`. */
export function nodeDescription(n: NodeSummary): string {
  const parts: string[] = [n.status];
  if (n.status === 'online' && n.latencyMs !== null) parts.push(`${formatMs(n.latencyMs)}`);
  if (n.status === 'online') {
    const providers = availableProviders(n);
    parts.push(providers.length ? providers.join(' ') : 'no providers');
  } else if (n.error) {
    parts.push(oneLine(n.error.message));
  }
  return parts.join(' · ');
}

export function nodeIcon(n: NodeSummary): IconSpec {
  if (n.status === 'online')
    return { id: n.transport === 'local' ? 'device-desktop' : 'vm-running', color: 'charts.green' };
  if (n.status === 'offline') return { id: 'vm-outline', color: 'errorForeground' };
  return { id: 'vm', color: 'disabledForeground' };
}

export function nodeTooltip(n: NodeSummary, system?: NodeSystem | null): string {
  const lines = [`**${md(n.name)}** — ${n.status}`, ''];
  lines.push(
    n.transport === 'local'
      ? '- host: this machine (built-in node)'
      : `- host: ${code(`${n.user}@${n.host}:${n.port}`)}`,
  );
  lines.push(`- agent: ${n.agentVersion ? md(n.agentVersion) : 'not installed'}`);
  if (n.latencyMs !== null) lines.push(`- latency: ${formatMs(n.latencyMs)}`);
  if (n.providers) {
    const p = n.providers;
    const describe = (k: (typeof PROVIDERS)[number]) =>
      `${k} ${p[k].available ? (p[k].version ? md(p[k].version) : 'yes') : 'no'}`;
    lines.push(
      `- providers: ${PROVIDERS.map(describe).join(', ')}${p.qemu.available ? (p.qemu.kvm ? ' (kvm)' : ' (no kvm)') : ''}`,
    );
  }
  if (system) {
    lines.push(`- system: ${md(system.os)} ${md(system.arch)}, kernel ${md(system.kernel)}`);
    lines.push(`- cpus: ${system.cpus}, load ${system.load.map((l) => l.toFixed(2)).join(' ')}`);
    lines.push(`- memory: ${formatBytes(system.memoryAvailableBytes)} free of ${formatBytes(system.memoryTotalBytes)}`);
    lines.push(`- disk: ${formatBytes(system.diskFreeBytes)} free of ${formatBytes(system.diskTotalBytes)}`);
    lines.push(`- up ${formatDuration(system.uptimeSeconds)}, Node.js ${md(system.nodeVersion)}`);
  }
  if (n.lastSeen) lines.push(`- last seen: ${md(n.lastSeen)}`);
  if (n.error) {
    lines.push('', `$(error) ${md(n.error.message)}`);
    if (n.error.hint) lines.push('', md(n.error.hint));
  }
  return lines.join('\n');
}

export function nodeItem(n: NodeSummary | NodeStatus, hasChildren: boolean): ItemSpec {
  const system = 'system' in n ? n.system : undefined;
  return {
    id: `node:${n.name}`,
    label: n.name,
    description: nodeDescription(n),
    tooltip: nodeTooltip(n, system),
    icon: nodeIcon(n),
    contextValue: nodeContext(n),
    collapsible: hasChildren ? 'expanded' : 'none',
  };
}

export function workspaceContext(w: WorkspaceSummary): WorkspaceContext {
  return `${w.state}Workspace` as WorkspaceContext;
}

export function workspaceIcon(w: WorkspaceSummary): IconSpec {
  switch (w.state) {
    case 'running':
      return { id: 'vm-running', color: 'charts.green' };
    case 'stopped':
      return { id: 'debug-stop', color: 'disabledForeground' };
    case 'creating':
      return { id: 'loading~spin' };
    case 'error':
      return { id: 'error', color: 'errorForeground' };
    case 'missing':
      return { id: 'question', color: 'list.warningForeground' };
  }
}

/** `running · docker · ~/src/shop`. */
export function workspaceDescription(w: WorkspaceSummary, homedir?: string): string {
  // A workspace whose last up stopped half-way may lack its code and services: say so beside the state.
  const idle =
    w.state === 'stopped' && w.stopped?.reason === 'idle'
      ? `stopped (idle since ${shortTime(w.stopped.at)})`
      : undefined;
  const parts: string[] = [w.unfinished ? `${w.state} (up unfinished)` : (idle ?? w.state), w.provider];
  if (w.error) parts.push(oneLine(w.error.message));
  else if (w.projectPath)
    parts.push(
      homedir && w.projectPath.startsWith(homedir + '/') ? `~${w.projectPath.slice(homedir.length)}` : w.projectPath,
    );
  return parts.join(' · ');
}

/** `07:12` today, `Dec 4 07:12` before: when an idle workspace was stopped. */
function shortTime(iso: string): string {
  const d = new Date(iso);
  if (!Number.isFinite(d.getTime())) return iso;
  const hm = d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return d.toDateString() === new Date().toDateString()
    ? hm
    : `${d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })} ${hm}`;
}

export function workspaceTooltip(w: WorkspaceSummary): string {
  const lines = [
    `**${md(w.name)}** on ${md(w.node)} — ${w.state}`,
    '',
    `- provider: ${w.provider}`,
    `- ssh host: ${code(w.sshHost)}`,
    `- folder: ${code(w.workspaceFolder)}`,
  ];
  if (w.projectPath) lines.push(`- made from: ${code(w.projectPath)}`);
  lines.push(`- created: ${md(w.createdAt)}`);
  if (w.unfinished)
    lines.push(
      '',
      `$(warning) its last up has not finished: it reached step ${w.unfinished.step}/${w.unfinished.total} (${md(w.unfinished.message)}); run it again to finish it`,
    );
  if (w.error) {
    lines.push('', `$(error) ${md(w.error.message)}`);
    if (w.error.hint) lines.push('', md(w.error.hint));
  }
  return lines.join('\n');
}

export function workspaceItem(w: WorkspaceSummary, homedir?: string): ItemSpec {
  return {
    id: `workspace:${w.node}/${w.name}`,
    label: w.name,
    description: workspaceDescription(w, homedir),
    tooltip: workspaceTooltip(w),
    icon: workspaceIcon(w),
    contextValue: workspaceContext(w),
    // Services live only while it runs.
    collapsible: w.state === 'running' ? 'collapsed' : 'none',
  };
}

export function serviceContext(s: ServiceStatus): ServiceContext {
  switch (s.state) {
    case 'healthy':
    case 'running':
      return 'healthyService';
    case 'unhealthy':
    case 'crashloop':
      return 'unhealthyService';
    case 'waiting':
    case 'starting':
    case 'restarting':
      return 'startingService';
    case 'exited':
    case 'stopped':
      return 'stoppedService';
  }
}

export function serviceIcon(s: ServiceStatus): IconSpec {
  // Runs, but has no check that could say it is healthy.
  if (s.state === 'running') return { id: 'play-circle', color: 'charts.green' };
  switch (serviceContext(s)) {
    case 'healthyService':
      return { id: 'pass-filled', color: 'charts.green' };
    case 'unhealthyService':
      return { id: 'error', color: 'errorForeground' };
    case 'startingService':
      return { id: 'loading~spin' };
    case 'stoppedService':
      return { id: 'circle-slash', color: 'disabledForeground' };
  }
}

/** `:3000 · healthy`, `:3000 → 127.0.0.1:3001 · healthy`, `crashloop · exit 1`. */
export function serviceDescription(s: ServiceStatus, port?: PortInfo): string {
  const parts: string[] = [];
  if (s.port !== undefined)
    parts.push(port?.localPort !== undefined ? `:${s.port} → 127.0.0.1:${port.localPort}` : `:${s.port}`);
  parts.push(s.state);
  if (s.reason) parts.push(oneLine(s.reason));
  else if ((s.state === 'exited' || s.state === 'crashloop') && s.exitCode !== undefined && s.exitCode !== null)
    parts.push(`exit ${s.exitCode}`);
  return parts.join(' · ');
}

export function serviceTooltip(w: WorkspaceSummary, s: ServiceStatus, port?: PortInfo): string {
  const lines = [`**${md(s.name)}** in ${md(w.name)} — ${s.state}`, ''];
  if (s.reason) lines.push(`- ${md(s.reason)}`);
  if (s.port !== undefined)
    lines.push(`- port ${s.port}${s.nodePort !== undefined ? ` (node port ${s.nodePort})` : ''}`);
  if (port) lines.push(`- url: ${md(port.url ?? '-')}`);
  if (s.pid !== undefined) lines.push(`- pid ${s.pid}`);
  lines.push(`- restarts: ${s.restarts}`);
  if (s.healthyAt) lines.push(`- healthy since ${md(s.healthyAt)}`);
  if (s.lastCheck)
    lines.push(
      `- last check: ${s.lastCheck.ok ? 'ok' : 'failed'} at ${md(s.lastCheck.at)}${s.lastCheck.output ? ` — ${md(oneLine(s.lastCheck.output))}` : ''}`,
    );
  if (s.port !== undefined)
    lines.push('', 'Click to open it in the browser (the port is forwarded to this machine first).');
  return lines.join('\n');
}

export function serviceItem(w: WorkspaceSummary, s: ServiceStatus, port?: PortInfo): ItemSpec {
  const spec: ItemSpec = {
    id: `service:${w.node}/${w.name}/${s.name}`,
    label: s.name,
    description: serviceDescription(s, port),
    tooltip: serviceTooltip(w, s, port),
    icon: serviceIcon(s),
    contextValue: serviceContext(s),
    collapsible: 'none',
  };
  if (s.port !== undefined) {
    spec.command = {
      command: COMMAND.openServiceUrl,
      title: 'Open in Browser',
      arguments: [{ kind: 'service', workspace: w, service: s, ...(port ? { port } : {}) } satisfies TreeElement],
    };
  }
  return spec;
}

export function messageItem(m: Extract<TreeElement, { kind: 'message' }>): ItemSpec {
  const tooltip =
    [m.detail, m.hint]
      .filter(Boolean)
      .map((t) => md(t!))
      .join('\n\n') || m.label;
  return {
    id: `message:${m.id}`,
    label: m.label,
    ...(m.detail ? { description: oneLine(m.detail) } : {}),
    tooltip,
    icon: m.severity === 'error' ? { id: 'error', color: 'errorForeground' } : { id: 'info' },
    contextValue: m.severity === 'error' ? 'errorMessage' : 'infoMessage',
    collapsible: 'none',
    ...(m.severity === 'error'
      ? { command: { command: COMMAND.showExtensionLog, title: 'Show Log', arguments: [] } }
      : {}),
  };
}

/**
 * The welcome view (Add Node, docs) shows when the tree is empty: no node but the built-in
 * `local` one, and no workspace anywhere.
 */
export function showWelcome(nodes: readonly NodeSummary[], workspaces: readonly WorkspaceSummary[]): boolean {
  return workspaces.length === 0 && nodes.every((n) => n.transport === 'local' || n.name === LOCAL_NODE);
}

/** Workspaces of one node, sorted by name. */
export function workspacesOf(node: string, all: readonly WorkspaceSummary[]): WorkspaceSummary[] {
  return all.filter((w) => w.node === node).sort((a, b) => a.name.localeCompare(b.name));
}

/** Nodes in the order the tree shows them: `local` first, then by name. */
export function sortNodes(nodes: readonly NodeSummary[]): NodeSummary[] {
  return [...nodes].sort((a, b) =>
    a.transport === 'local' ? -1 : b.transport === 'local' ? 1 : a.name.localeCompare(b.name),
  );
}

export function formatMs(ms: number): string {
  return ms < 10 ? `${Math.round(ms * 10) / 10} ms` : `${Math.round(ms)} ms`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 3600) return `${Math.max(1, Math.round(seconds / 60))} min`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

export function oneLine(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 80 ? `${t.slice(0, 79)}…` : t;
}

/** Inline code; a backtick in the text would end it early, so it is dropped. */
function code(s: string): string {
  return `\`${s.replace(/`/g, '')}\``;
}

/** Escapes Markdown so names and messages from the coordinator render as text. */
export function md(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-!<>|]/g, (c) => `\\${c}`);
}
