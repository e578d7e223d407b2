/** Human output of `vendetta node …`: tables and diagnosis lines. */
import type { NodeProviders, NodeStatus, NodeSummary, TestNodeResult } from '../protocol';
import { formatTable, type Column } from './output';

export function address(n: NodeSummary): string {
  return n.transport === 'local' ? '(this machine)' : `${n.user}@${formatHost(n.host)}:${n.port}`;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function providersText(p: NodeProviders | null): string {
  if (!p) return '-';
  const parts: string[] = [];
  if (p.docker.available) parts.push(`docker ${p.docker.version ?? ''}`.trim());
  if (p.lxc.available)
    parts.push(
      `lxc ${p.lxc.version ?? ''}${p.lxc.projectFolder ? ` (project folder: ${p.lxc.projectFolder})` : ''}`
        .replace(/ +/g, ' ')
        .trim(),
    );
  if (p.qemu.available) parts.push(`qemu ${p.qemu.version ?? ''}${p.qemu.kvm ? ' (kvm)' : ''}`.trim());
  return parts.length ? parts.join(', ') : 'none';
}

export function latencyText(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

const summaryColumns: Column<NodeSummary>[] = [
  { header: 'name', value: (n) => n.name },
  { header: 'transport', value: (n) => n.transport },
  { header: 'address', value: address },
  { header: 'status', value: (n) => n.status },
  { header: 'latency', value: (n) => latencyText(n.latencyMs) },
  { header: 'agent', value: (n) => n.agentVersion ?? '-' },
  { header: 'providers', value: (n) => providersText(n.providers) },
];

/** The `node list` table, then one line per node with a problem. */
export function formatNodeList(nodes: readonly NodeSummary[]): string {
  return formatTable(nodes, summaryColumns) + problems(nodes);
}

const GiB = 1024 ** 3;

const statusColumns: Column<NodeStatus>[] = [
  { header: 'name', value: (n) => n.name },
  { header: 'status', value: (n) => n.status },
  { header: 'latency', value: (n) => latencyText(n.latencyMs) },
  { header: 'os', value: (n) => (n.system ? `${n.system.os} (${n.system.arch})` : '-') },
  { header: 'cpus', value: (n) => (n.system ? String(n.system.cpus) : '-') },
  { header: 'load', value: (n) => (n.system ? n.system.load.map((l) => l.toFixed(2)).join(' ') : '-') },
  {
    header: 'memory free',
    value: (n) => (n.system ? `${gib(n.system.memoryAvailableBytes)} / ${gib(n.system.memoryTotalBytes)}` : '-'),
  },
  {
    header: 'disk free',
    value: (n) => (n.system ? `${gib(n.system.diskFreeBytes)} / ${gib(n.system.diskTotalBytes)}` : '-'),
  },
  { header: 'agent', value: (n) => n.agentVersion ?? '-' },
  { header: 'runtime', value: runtimeText },
  { header: 'providers', value: (n) => providersText(n.providers) },
];

/** The agent's Node.js: its version, and where it came from when vendetta brought it. */
export function runtimeText(n: NodeStatus): string {
  const r = n.runtime;
  if (!r) return '-';
  return r.source === 'upload'
    ? `${r.version} (uploaded)`
    : r.source === 'package'
      ? `${r.version} (package)`
      : r.version;
}

export function formatNodeStatus(nodes: readonly NodeStatus[]): string {
  return formatTable(nodes, statusColumns) + clusters(nodes) + problems(nodes);
}

/** Under the table: each node whose LXD is a cluster, one line per member. */
function clusters(nodes: readonly NodeStatus[]): string {
  const out: string[] = [];
  for (const n of nodes) {
    const members = n.providers?.lxc.cluster;
    if (!members?.length) continue;
    out.push(`${n.name}: LXD cluster of ${members.length}`);
    for (const m of members)
      out.push(
        `  ${m.name}  ${m.status.toLowerCase()}  ${m.instances} instance${m.instances === 1 ? '' : 's'}  ${m.roles.join(',') || '-'}${m.status === 'Online' ? '' : `  (${m.message})`}`,
      );
  }
  return out.length ? `\n${out.join('\n')}\n` : '';
}

function gib(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

function problems(nodes: readonly NodeSummary[]): string {
  const lines: string[] = [];
  for (const n of nodes) {
    if (!n.error) continue;
    lines.push(`${n.name}: ${n.error.message}`);
    if (n.error.hint) lines.push(`  hint: ${n.error.hint}`);
  }
  return lines.length ? `\n${lines.join('\n')}\n` : '';
}

/** One line per step with ✔/✖ and its time; a hint under each failure. */
export function formatTestResult(r: TestNodeResult): string {
  const width = Math.max(0, ...r.steps.map((s) => s.name.length));
  const out: string[] = [];
  for (const s of r.steps) {
    const mark = s.ok ? '✔' : s.optional ? '–' : '✖';
    out.push(`${mark} ${s.name.padEnd(width)}  ${s.detail} (${latencyText(s.elapsedMs)})`);
    if (!s.ok && s.hint) out.push(`  ${' '.repeat(width)}  hint: ${s.hint}`);
  }
  const passed = r.steps.filter((s) => s.ok).length;
  const missing = r.steps.filter((s) => !s.ok && s.optional).length;
  const note = missing ? ` (${missing} provider${missing === 1 ? '' : 's'} not available)` : '';
  out.push(`${r.name}: ${r.ok ? 'ok' : 'FAILED'}, ${passed} of ${r.steps.length} checks passed${note}`);
  return out.join('\n') + '\n';
}
