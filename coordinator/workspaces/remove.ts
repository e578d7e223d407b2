/** `workspace rm`: removed on its node (or forgotten here when its node is gone, with --force). */
import type { CancellationToken } from 'vscode-jsonrpc';
import { RemoveWorkspace } from '../../agent/protocol';
import { toVendettaError, VendettaError } from '../errors';
import type { RemoveWorkspaceParams } from '../protocol';
import { agentErrorName } from './agentReplies';
import type { WorkspaceOps } from './operations';

/** Removes the workspace on its node, then everything that pointed at it here. */
export async function removeWorkspace(
  ops: WorkspaceOps,
  p: RemoveWorkspaceParams,
  token?: CancellationToken,
): Promise<{ name: string; node: string }> {
  const record = ops.resolve(p);
  return ops.exclusive(
    record.node,
    record.name,
    async () => {
      try {
        await ops
          .client(record.node)
          .request(RemoveWorkspace, { name: record.name, ...(p.force ? { force: true } : {}) }, token);
      } catch (err) {
        const e = toVendettaError(err);
        if (e.code === 'NODE_NOT_FOUND') {
          // The node was removed from the registry: nothing can be asked of it any more.
          if (!p.force)
            throw new VendettaError(
              'NODE_NOT_FOUND',
              `The node ${record.node} of workspace ${record.name} is no longer registered`,
              {
                node: record.node,
                cause: e,
                hint: `Re-add the node to remove the workspace there, or \`vendetta workspace rm ${record.name} --node ${record.node} --force\` to forget it here only.`,
              },
            );
          ops.log.warn('forgetting a workspace whose node is gone', {
            workspace: record.name,
            node: record.node,
          });
          await ops.forgetLocally(record);
          ops.emitChange();
          return { name: record.name, node: record.node };
        }
        const name = agentErrorName(err);
        if (name === 'WORKSPACE_RUNNING') {
          const e = toVendettaError(err);
          throw new VendettaError('WORKSPACE_STATE', `${record.name} is running`, {
            node: record.node,
            cause: e,
            hint: `Stop it first (\`vendetta workspace stop ${record.name}\`) or remove it anyway with --force.`,
          });
        }
        if (name !== 'WORKSPACE_NOT_FOUND') throw err;
      }
      await ops.forgetLocally(record);
      ops.log.info('workspace removed', { workspace: record.name, node: record.node });
      ops.emitChange();
      return { name: record.name, node: record.node };
    },
    'rm',
  );
}
