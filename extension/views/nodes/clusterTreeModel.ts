/**
 * A node whose LXD is a cluster shows its members under it: one `LXD cluster` row, and under it
 * each member with its status, roles and instance count, the data `node status --json` gives
 * (providers.lxc.cluster), plus which of our workspaces it runs. Pure, like nodeTreeModel.
 */
import type { LxdMemberSummary, NodeSummary, WorkspaceSummary } from '../../../coordinator/protocol';
import { md, oneLine, workspacesOf, type ItemSpec, type MemberContext, type TreeElement } from './nodeTreeModel';

/** The members of the node's LXD cluster, as its last status said; none when it is not clustered. */
export function membersOf(node: NodeSummary): LxdMemberSummary[] {
  return node.providers?.lxc.cluster ?? [];
}

/** What a node row holds: its cluster's members (one group row) first, then its workspaces. */
export function nodeChildren(node: NodeSummary, all: readonly WorkspaceSummary[]): TreeElement[] {
  const members = membersOf(node);
  return [
    ...(members.length ? [{ kind: 'cluster', node, members } satisfies TreeElement] : []),
    ...workspacesOf(node.name, all).map((workspace): TreeElement => ({ kind: 'workspace', workspace })),
  ];
}

/** One row per member, in LXD's order, each with the node's workspaces it runs. */
export function clusterChildren(
  c: Extract<TreeElement, { kind: 'cluster' }>,
  all: readonly WorkspaceSummary[],
): TreeElement[] {
  const ours = workspacesOf(c.node.name, all);
  return c.members.map(
    (member): TreeElement => ({
      kind: 'member',
      node: c.node,
      member,
      workspaces: ours.filter((w) => w.member === member.name),
    }),
  );
}

const online = (m: LxdMemberSummary) => m.status === 'Online';

/** `3 members · all online`, `3 members · m2 offline`. */
export function clusterItem(c: Extract<TreeElement, { kind: 'cluster' }>): ItemSpec {
  const down = c.members.filter((m) => !online(m));
  const state = down.length ? down.map((m) => `${m.name} ${m.status.toLowerCase()}`).join(', ') : 'all online';
  return {
    id: `cluster:${c.node.name}`,
    label: 'LXD cluster',
    description: `${c.members.length} member${c.members.length === 1 ? '' : 's'} · ${state}`,
    tooltip: [
      `**LXD cluster** behind ${md(c.node.name)}`,
      '',
      '- workspaces go to the member `lxc.target` names, else where LXD places them',
      ...(down.length ? ['- workspaces on a member that is not online show `error` until it is back'] : []),
    ].join('\n'),
    icon: down.length ? { id: 'server-environment', color: 'list.warningForeground' } : { id: 'server-environment' },
    contextValue: 'lxdCluster',
    // A member that is down is worth seeing without a click.
    collapsible: down.length ? 'expanded' : 'collapsed',
  };
}

export function memberContext(m: LxdMemberSummary): MemberContext {
  return online(m) ? 'onlineMember' : 'unavailableMember';
}

/** `online · database-leader, database · 2 instances`, `offline · No heartbeat since 25s`. */
export function memberDescription(m: LxdMemberSummary): string {
  const parts = [m.status.toLowerCase()];
  if (!online(m) && m.message) parts.push(oneLine(m.message));
  parts.push(m.roles.length ? m.roles.join(', ') : 'no roles');
  parts.push(`${m.instances} instance${m.instances === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

export function memberItem(e: Extract<TreeElement, { kind: 'member' }>): ItemSpec {
  const m = e.member;
  const lines = [`**${md(m.name)}** — member of the LXD cluster behind ${md(e.node.name)}`, ''];
  lines.push(`- status: ${md(m.status)}${m.message ? ` (${md(m.message)})` : ''}`);
  lines.push(`- roles: ${m.roles.length ? m.roles.map(md).join(', ') : 'none'}`);
  lines.push(`- instances: ${m.instances} (all of LXD's, not only workspaces)`);
  lines.push(
    `- workspaces here: ${e.workspaces.length ? e.workspaces.map((w) => `${md(w.name)} (${w.state})`).join(', ') : 'none'}`,
  );
  return {
    id: `member:${e.node.name}/${m.name}`,
    label: m.name,
    description: memberDescription(m),
    tooltip: lines.join('\n'),
    icon: online(m) ? { id: 'server', color: 'charts.green' } : { id: 'server', color: 'errorForeground' },
    contextValue: memberContext(m),
    collapsible: 'none',
  };
}
