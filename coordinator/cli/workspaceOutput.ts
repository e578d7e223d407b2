/** How workspace results read on a terminal (the --json forms are the protocol types as they are). */
import type {
  SyncConflict,
  SyncReport,
  UpWarning,
  WorkspaceStatus,
  WorkspaceSummary,
  WorkspaceUpResult,
} from '../protocol';
import { localTime } from '../timeText';
import { plural } from '../workspaces/upWarnings';
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

/** `running`, `running (up unfinished)`, `stopped (idle since 2026-12-05 07:12:03)`. */
export function stateText(r: WorkspaceSummary): string {
  if (r.unfinished) return `${r.state} (up unfinished)`;
  if (r.state === 'stopped' && r.stopped?.reason === 'idle') return `stopped (idle since ${localTime(r.stopped.at)})`;
  return r.state;
}

export function formatWorkspaceList(rows: readonly WorkspaceSummary[]): string {
  if (rows.length === 0) return 'no workspaces yet: `vendetta workspace up PATH` makes one\n';
  const table = formatTable(rows, [
    { header: 'name', value: (r) => r.name },
    { header: 'node', value: (r) => r.node },
    { header: 'provider', value: (r) => r.provider },
    { header: 'state', value: stateText },
    { header: 'ssh host', value: (r) => r.sshHost },
    { header: 'created', value: (r) => localTime(r.createdAt) },
  ]);
  const problems = rows
    .filter((r) => r.error)
    .map((r) => `${r.name} (${r.node}): ${r.error!.message}${r.error!.hint ? `\n  hint: ${r.error!.hint}` : ''}`);
  for (const r of rows) if (r.unfinished) problems.push(`${r.name} (${r.node}): ${unfinishedText(r)}`);
  return table + (problems.length ? '\n' + problems.join('\n') + '\n' : '');
}

/** Why a running workspace may lack its code or services: its last `up` stopped half-way. */
function unfinishedText(r: WorkspaceSummary): string {
  const u = r.unfinished!;
  const again = r.projectPath ? `\`vendetta up ${r.projectPath} --name ${r.name}\`` : '`vendetta workspace up`';
  return `the up begun ${localTime(u.since)} has not finished: it reached step ${u.step}/${u.total} (${u.message})\n  hint: if it was interrupted, ${again} finishes it`;
}

export function formatSync(s: SyncReport): string {
  const kept = s.kept ? `, ${s.kept} changed only in the workspace (kept)` : '';
  const conflicts = s.conflictCount ? `, ${plural(s.conflictCount, 'conflict')}` : '';
  const replaced = s.replacedCount ? `, ${s.replacedCount} replaced` : '';
  return `${plural(s.files, 'file')}, ${s.sent} sent (${formatBytes(s.bytes)}), ${s.deleted} deleted${kept}${conflicts}${replaced} in ${formatSeconds(s.elapsedMs)}`;
}

function conflictLines(list: readonly SyncConflict[], total: number): string[] {
  const width = Math.min(60, Math.max(...list.map((c) => c.path.length)));
  const lines = list.map((c) => `    ${c.path.padEnd(width)}  ${c.local} here, ${WORKSPACE_WORDS[c.workspace]}`);
  if (total > list.length) lines.push(`    … and ${total - list.length} more`);
  return lines;
}

const WORKSPACE_WORDS: Record<SyncConflict['workspace'], string> = {
  added: 'added in the workspace',
  modified: 'modified in the workspace',
  deleted: 'deleted in the workspace',
  folder: 'a folder in the workspace',
  blocked: 'a file or link stands in the workspace where one of its folders goes',
  special: 'a socket, FIFO or device in the workspace',
};

/**
 * `up`'s warnings for stderr (the exit code stays 0). The config's were printed, located, before
 * the up began (checkConfigBeforeUp), so they are not repeated.
 */
export function formatUpWarnings(warnings: readonly UpWarning[]): string {
  return warnings
    .filter((w) => w.code !== 'CONFIG_WARNING')
    .map((w) => `warning: ${w.message}\n${w.hint ? `hint: ${w.hint}\n` : ''}`)
    .join('');
}

export function formatUp(r: WorkspaceUpResult): string {
  const lines = [
    `${r.name} on ${r.node} is ${r.state} (${r.recreated ? `recreated: only ${r.workspaceFolder} was kept` : r.existed ? 'already there' : 'created'}; ${formatSeconds(r.elapsedMs)})`,
    `  ssh:     ssh ${r.sshHost}   (once \`vendetta ssh-config install\` ran), or: vendetta workspace ssh ${r.name}`,
    `  folder:  ${r.workspaceFolder}`,
  ];
  if (r.sync) lines.push(`  sync:    ${formatSync(r.sync)}`);
  if (r.sync?.conflicts.length)
    lines.push(
      "  conflicts (changed on both sides; the workspace's version was kept):",
      ...conflictLines(r.sync.conflicts, r.sync.conflictCount),
    );
  if (r.sync?.replaced?.length)
    lines.push(
      "  replaced by this folder's version (--overwrite):",
      ...conflictLines(r.sync.replaced, r.sync.replacedCount ?? r.sync.replaced.length),
    );
  if (r.git)
    lines.push(
      `  git:     ${r.git.url}${r.git.ref ? `#${r.git.ref}` : ''} ${r.git.cloned ? 'cloned' : 'already cloned'}`,
    );
  for (const f of r.forwards ?? [])
    lines.push(
      `  forward: ${forwardLine(f)}${f.localPort !== f.port ? ` (port ${f.port} is taken on this machine)` : ''}`,
    );
  if (r.restartedServices) lines.push(`  restart: ${r.restartedServices.join(', ')} (the sync changed the project)`);
  if (r.staleServices)
    lines.push(
      `  stale:   ${r.staleServices.join(', ')} still run${r.staleServices.length === 1 ? 's' : ''} the code from before this sync (reload: never): \`vendetta workspace restart ${r.name} ${r.staleServices.join(' ')}\``,
    );
  return lines.join('\n') + '\n' + (r.services ? '\n' + formatServices(r.services) : '');
}

export function formatStatus(s: WorkspaceStatus): string {
  const rows: Array<[string, string]> = [
    ['name', s.name],
    ['node', s.node],
    ...(s.member ? [['member', `${s.member} (LXD cluster)`] as [string, string]] : []),
    ['provider', s.provider],
    ['state', stateText(s)],
    ['ssh host', s.sshHost],
    ['user', s.user ?? '-'],
    ['image', s.image ?? '-'],
    ['folder', s.workspaceFolder],
    ['project', s.projectPath ?? '-'],
    ['node folder', s.nodeFolder ?? '-'],
    ['sshd', s.ssh ? `${s.ssh.host}:${s.ssh.port} (on ${s.node}), host key ${s.ssh.fingerprint}` : '-'],
    ['created', localTime(s.createdAt)],
    ['started', localTime(s.startedAt)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  const out = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  if (s.unfinished) out.push(`note: ${unfinishedText(s)}`);
  if (s.error) out.push(`error: ${s.error.message}`, ...(s.error.hint ? [`hint: ${s.error.hint}`] : []));
  return out.join('\n') + '\n' + (s.services ? '\n' + formatServices(s.services) : '');
}
