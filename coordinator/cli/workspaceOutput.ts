/** How workspace results read on a terminal (the --json forms are the protocol types as they are). */
import type { SyncReport, WorkspaceStatus, WorkspaceSummary, WorkspaceUpResult } from '../protocol';
import { formatSeconds, formatTable } from './output';
import { forwardLine, formatServices } from './serviceOutput';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (!Number.isFinite(s)) return '-';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function formatWorkspaceList(rows: readonly WorkspaceSummary[], now = Date.now()): string {
  if (rows.length === 0) return 'no workspaces yet: `vendetta workspace up PATH` makes one\n';
  const table = formatTable(rows, [
    { header: 'name', value: (r) => r.name },
    { header: 'node', value: (r) => r.node },
    { header: 'provider', value: (r) => r.provider },
    { header: 'state', value: (r) => r.state },
    { header: 'ssh host', value: (r) => r.sshHost },
    { header: 'created', value: (r) => age(r.createdAt, now) },
  ]);
  const problems = rows.filter((r) => r.error).map((r) => `${r.name} (${r.node}): ${r.error!.message}${r.error!.hint ? `\n  hint: ${r.error!.hint}` : ''}`);
  return table + (problems.length ? '\n' + problems.join('\n') + '\n' : '');
}

export function formatSync(s: SyncReport): string {
  return `${s.files} file${s.files === 1 ? '' : 's'}, ${s.sent} sent (${formatBytes(s.bytes)}), ${s.deleted} deleted in ${formatSeconds(s.elapsedMs)}`;
}

export function formatUp(r: WorkspaceUpResult): string {
  const lines = [
    `${r.name} on ${r.node} is ${r.state} (${r.recreated ? `recreated: only ${r.workspaceFolder} was kept` : r.existed ? 'already there' : 'created'}; ${formatSeconds(r.elapsedMs)})`,
    `  ssh:     ssh ${r.sshHost}   (once \`vendetta ssh-config install\` ran), or: vendetta workspace ssh ${r.name}`,
    `  folder:  ${r.workspaceFolder}`,
  ];
  if (r.sync) lines.push(`  sync:    ${formatSync(r.sync)}`);
  if (r.git) lines.push(`  git:     ${r.git.url}${r.git.ref ? `#${r.git.ref}` : ''} ${r.git.cloned ? 'cloned' : 'already cloned'}`);
  for (const f of r.forwards ?? []) lines.push(`  forward: ${forwardLine(f)}`);
  return lines.join('\n') + '\n' + (r.services ? '\n' + formatServices(r.services) : '');
}

export function formatStatus(s: WorkspaceStatus): string {
  const rows: Array<[string, string]> = [
    ['name', s.name],
    ['node', s.node],
    ['provider', s.provider],
    ['state', s.state],
    ['ssh host', s.sshHost],
    ['user', s.user ?? '-'],
    ['image', s.image ?? '-'],
    ['folder', s.workspaceFolder],
    ['project', s.projectPath ?? '-'],
    ['node folder', s.nodeFolder ?? '-'],
    ['sshd', s.ssh ? `${s.ssh.host}:${s.ssh.port} (on ${s.node}), host key ${s.ssh.fingerprint}` : '-'],
    ['created', s.createdAt],
    ['started', s.startedAt ?? '-'],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const out = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  if (s.error) out.push(`error: ${s.error.message}`, ...(s.error.hint ? [`hint: ${s.error.hint}`] : []));
  return out.join('\n') + '\n' + (s.services ? '\n' + formatServices(s.services) : '');
}
