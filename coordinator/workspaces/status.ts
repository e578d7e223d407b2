/** `workspace status`: what the node says of one workspace, its pinned key and its services. */
import type { WorkspaceInfo } from '../../agent/protocol';
import { ListServices } from '../../agent/protocol';
import { toVendettaError } from '../errors';
import type { ServiceStatus, WorkspaceRef, WorkspaceStatus } from '../protocol';
import { checkServicesStatus } from '../services/agentReplies';
import type { WorkspaceOps } from './operations';
import type { WorkspaceRecord } from './store';

export async function workspaceStatus(ops: WorkspaceOps, ref: WorkspaceRef): Promise<WorkspaceStatus> {
  const record = ops.resolve(ref);
  let info: WorkspaceInfo | undefined;
  try {
    info = await ops.inspect(record);
  } catch (err) {
    const e = toVendettaError(err);
    ops.noteInfo(record, undefined, e);
    return { ...ops.summary(record), image: null, user: record.user, startedAt: null, ssh: null, nodeFolder: null };
  }
  const pinned = ops.knownHosts.lookup(record.sshHost, 22);
  return {
    ...ops.summary(record),
    image: info?.image ?? null,
    user: info?.user ?? record.user,
    startedAt: info?.startedAt ?? null,
    ssh: info?.ssh
      ? { host: info.ssh.host, port: info.ssh.port, fingerprint: pinned?.fingerprint ?? info.ssh.hostKey.fingerprint }
      : null,
    nodeFolder: info?.nodeFolder ?? null,
    ...(info?.member ? { member: info.member } : {}),
    ...(info?.state === 'running' ? await servicesOf(ops, record) : {}),
  };
}

/** The services for a status, or nothing when the node cannot say (the status still answers). */
async function servicesOf(ops: WorkspaceOps, record: WorkspaceRecord): Promise<{ services?: ServiceStatus[] }> {
  try {
    return {
      services: checkServicesStatus(
        await ops.client(record.node).request(ListServices, { workspace: record.name }),
        record.node,
      ).services,
    };
  } catch (err) {
    ops.log.debug('no services for a status', { workspace: record.name, node: record.node, err });
    return {};
  }
}
