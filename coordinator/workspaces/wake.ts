/**
 * Connecting starts a stopped workspace (ssh-proxy, Remote-SSH reconnecting after a laptop sleep,
 * the tree's Open): the agent starts it and answers once its SSH server does; its services are
 * asked to start too, but ssh does not wait for their checks — a connection should not take as
 * long as a database warming up.
 */
import type { CancellationToken } from 'vscode-jsonrpc';
import { StartWorkspace, RunPostAttach } from '../../agent/protocol';
import { toVendettaError, VendettaError } from '../errors';
import { checkWorkspaceInfo } from './agentReplies';
import type { WorkspaceOps } from './operations';
import type { WorkspaceRecord } from './store';
import { startServices } from './upServices';

/** Why a workspace cannot be connected to in this state, with what to do; undefined for `running`. */
export function notConnectable(
  record: WorkspaceRecord,
  state: string,
  error?: { message: string; hint?: string },
): VendettaError | undefined {
  if (state === 'running') return undefined;
  // A broken workspace carries the node's reason (its engine is down, the instance is gone): say it here.
  const why = state !== 'stopped' && error ? `: ${error.message}` : '';
  return new VendettaError('WORKSPACE_STATE', `The workspace ${record.name} on ${record.node} is ${state}${why}`, {
    node: record.node,
    details: { state },
    hint:
      state === 'stopped'
        ? `Start it with \`vendetta workspace start ${record.name}\`.`
        : (why && error?.hint) ||
          `\`vendetta workspace status ${record.name}\` says why; \`vendetta workspace up\` makes it again.`,
  });
}

/**
 * Starts the workspace when it is stopped; returns how long that took, or undefined when it
 * already ran. Gone or broken workspaces are errors: connecting never re-creates anything.
 */
export async function wakeForConnect(
  ops: WorkspaceOps,
  record: WorkspaceRecord,
  token?: CancellationToken,
): Promise<number | undefined> {
  return ops.exclusive(
    record.node,
    record.name,
    async () => {
      const t0 = Date.now();
      const info = await ops.inspect(record, token);
      if (!info) throw gone(record);
      if (info.state === 'running') return undefined;
      if (info.state !== 'stopped') throw notConnectable(record, info.state, info.error)!;
      ops.log.info('starting a stopped workspace for a connection', { workspace: record.name, node: record.node });
      const started = checkWorkspaceInfo(
        await ops.client(record.node).request(StartWorkspace, { name: record.name }, token),
        record.node,
      );
      ops.noteInfo(record, started);
      ops.emitChange();
      const refused = notConnectable(record, started.state);
      if (refused) throw refused;
      try {
        await startServices(ops, record, token);
      } catch (err) {
        // The services' own state says what went wrong (`vendetta services list`); ssh still gets in.
        ops.log.warn('services did not start with the workspace', {
          workspace: record.name,
          node: record.node,
          error: toVendettaError(err).message,
        });
      }
      return Date.now() - t0;
    },
    'start',
  );
}

export function gone(record: WorkspaceRecord): VendettaError {
  return new VendettaError('WORKSPACE_STATE', `${record.node} no longer has the workspace ${record.name}`, {
    node: record.node,
    details: { state: 'missing' },
    hint: `\`vendetta workspace up\` makes it again; \`vendetta workspace rm ${record.name}\` forgets it.`,
  });
}

/**
 * An SSH client connected (Remote-SSH, `workspace ssh`): the node runs the workspace's
 * postAttach hook in the background; the connection never waits for it, nor fails with it.
 */
export function notifyAttached(ops: WorkspaceOps, record: WorkspaceRecord): void {
  ops
    .client(record.node)
    .request(RunPostAttach, { workspace: record.name })
    .then(
      (r) => r?.started && ops.log.info('postAttach started', { workspace: record.name, node: record.node }),
      (err: unknown) =>
        ops.log.debug('postAttach not started', {
          workspace: record.name,
          node: record.node,
          error: err instanceof Error ? err.message : String(err),
        }),
    );
}
