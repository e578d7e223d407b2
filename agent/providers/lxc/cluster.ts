/**
 * A node whose LXD is a cluster: instances are placed by `lxc.target` or by LXD, looked up in the
 * instance list (which answers at once even for an instance whose member is offline, where a
 * direct GET waits and fails with "Missing event connection"), and a member that is not online
 * makes its workspaces an error that names the member and LXD's reason.
 */
import { AgentError } from '../../errors';
import { signalOf, type CallOptions } from '../contract';
import { lxdCalls, proxyDevices } from './api';
import type { LxdClient } from './client';
import { parseClusterMembers, parseInstance, syncMetadata, type LxdInstance, type LxdMember } from './parse';

export async function clusterMembers(client: LxdClient, opts: CallOptions = {}): Promise<LxdMember[]> {
  return parseClusterMembers(
    (await client.json(lxdCalls.clusterMembers(), { timeoutMs: 15_000, ...signalOf(opts) })).value,
  );
}

/** The instance as the cluster's list shows it; undefined when there is none of that name. */
export async function inspectOnCluster(
  client: LxdClient,
  name: string,
  opts: CallOptions = {},
): Promise<LxdInstance | undefined> {
  const r = await client.json(lxdCalls.instanceListed(name), { timeoutMs: 15_000, ...signalOf(opts) });
  const list = syncMetadata(r.value, 'the instance list');
  const entry = Array.isArray(list)
    ? (list.find((i) => (i as { name?: unknown } | null)?.name === name) as Record<string, unknown> | undefined)
    : undefined;
  if (!entry) return undefined;
  // A member that does not answer leaves only the name, the location and status Error.
  if (entry.config === null || entry.config === undefined) {
    const where = typeof entry.location === 'string' ? entry.location : '';
    const member = (await clusterMembers(client, opts)).find((m) => m.name === where);
    if (member && member.status !== 'Online') throw memberDown(name, member);
  }
  return parseInstance(entry);
}

/**
 * After a create on a cluster: on the agent's own member the ports become proxy devices (a direct
 * path); on another member they stay in the relay plan, which the agent serves (relay.ts).
 */
export async function wirePlacement(client: LxdClient, name: string, self: string | undefined): Promise<void> {
  const placed = await inspectOnCluster(client, name);
  if (!placed?.relay || placed.member === undefined || placed.member !== self) return;
  await client.json(lxdCalls.instancePatch(name, { devices: proxyDevices(placed.relay.ports) }), { timeoutMs: 30_000 });
}

export function memberDown(instance: string, member: LxdMember): AgentError {
  return new AgentError(
    'PROVIDER_ERROR',
    `The cluster member ${member.name} that runs the instance ${instance} is ${member.status.toLowerCase()}${member.message ? ` (LXD: ${member.message})` : ''}`,
    {
      provider: 'lxc',
      hint: `Bring LXD on ${member.name} back into the cluster; the workspace and its files stay on that member.`,
    },
  );
}
