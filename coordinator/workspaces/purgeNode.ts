/**
 * `node remove NAME --purge`, the workspaces part: every workspace of the node — those its agent
 * knows (made from here or from another machine) and those recorded here — is listed for the
 * user to confirm, then removed on the node (container, folder) and here (ssh_config block,
 * pinned known_hosts line, record) before the agent itself goes. Nothing outside the confirmed
 * list is removed: a workspace that appeared since is an error, and the user lists again.
 */
import type { CancellationToken } from 'vscode-jsonrpc';
import { ListWorkspaces, RemoveWorkspace } from '../../agent/protocol';
import { toVendettaError, VendettaError } from '../errors';
import type { PurgedWorkspace } from '../protocol';
import { agentErrorName, checkWorkspaceList } from './agentReplies';
import type { WorkspaceManager } from './manager';

/** What the purge of `node` would remove, by workspace name (sorted). */
export async function planNodePurge(
  workspaces: WorkspaceManager,
  node: string,
  token?: CancellationToken,
): Promise<PurgedWorkspace[]> {
  let onNode;
  try {
    onNode = checkWorkspaceList(await workspaces.client(node).request(ListWorkspaces, {}, token), node);
  } catch (err) {
    const e = toVendettaError(err);
    throw new VendettaError(e.code, `Cannot list the workspaces on ${node} to purge them: ${e.message}`, {
      node,
      cause: e,
      hint: `${e.hint ?? ''} To forget the node without cleaning it up, run \`vendetta node remove ${node}\` without --purge.`.trim(),
    });
  }
  const byName = new Map<string, PurgedWorkspace>();
  for (const info of onNode) {
    byName.set(info.name, {
      name: info.name,
      provider: info.provider,
      state: info.state,
      folder: info.nodeFolder,
      ...(info.providerId ? { container: info.providerId } : {}),
      sshConfigBlock: false,
      knownHostsLine: false,
    });
  }
  for (const r of workspaces.records().filter((x) => x.node === node)) {
    const w = byName.get(r.name) ?? {
      name: r.name,
      provider: r.provider,
      sshConfigBlock: false,
      knownHostsLine: false,
    };
    w.sshHost = r.sshHost;
    Object.assign(w, workspaces.localTraces(r.sshHost));
    byName.set(r.name, w);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Removes the workspaces of `node` (as planNodePurge lists them now), all of them or none if one
 * is not in `confirmed`. Returns what was removed.
 */
export async function purgeNodeWorkspaces(
  workspaces: WorkspaceManager,
  node: string,
  confirmed: readonly string[] | undefined,
  token?: CancellationToken,
): Promise<PurgedWorkspace[]> {
  const plan = await planNodePurge(workspaces, node, token);
  const unconfirmed = confirmed ? plan.filter((w) => !confirmed.includes(w.name)).map((w) => w.name) : [];
  if (unconfirmed.length) {
    throw new VendettaError(
      'WORKSPACE_STATE',
      `${node} has workspaces that were not in the list you confirmed: ${unconfirmed.join(', ')}`,
      {
        node,
        hint: `Nothing was removed. Run \`vendetta node remove ${node} --purge\` again to see the list as it is now.`,
      },
    );
  }
  for (const w of plan) {
    const record = workspaces.records().find((r) => r.node === node && r.name === w.name);
    if (record) {
      await workspaces.remove({ name: w.name, node, force: true }, token);
      continue;
    }
    // Made from another machine: only the node has it.
    try {
      await workspaces.client(node).request(RemoveWorkspace, { name: w.name, force: true }, token);
    } catch (err) {
      if (agentErrorName(err) !== 'WORKSPACE_NOT_FOUND') throw err;
    }
  }
  workspaces.log.info('purged the workspaces of a node', { node, workspaces: plan.map((w) => w.name) });
  return plan;
}
