/**
 * `vendetta node remove NAME --purge`: stop the node's agent daemon (agent/shutdown, waiting for
 * the process to go), then delete ~/.vendetta-agent. The pinned host key is the caller's to drop.
 */
import { Shutdown } from '../../agent/protocol';
import { toVendettaError, VendettaError } from '../errors';
import { agentBundlePath, type HomePaths } from '../home';
import type { Logger } from '../log';
import { AgentEndpoints, endpointKey, endpointsFile } from '../nodes/agentEndpoints';
import { attachAgent, stopPid } from './agentAttach';
import { openSsh } from './connect';
import { execCollect } from './exec';
import { readLocalBundle } from './localBundle';
import { LIST_BUNDLES, PROBE_PREFIX, REMOVE_AGENT_HOME } from './remoteScripts';
import { shScript } from './shellQuote';
import type { SshNodeTarget } from './target';

export async function purgeAgent(
  target: SshNodeTarget,
  opts: { paths: HomePaths; log: Logger; agentBundle?: string },
): Promise<void> {
  const node = target.name;
  const { client } = await openSsh(target, { paths: opts.paths, log: opts.log });
  client.on('error', () => undefined);
  try {
    const listed = await execCollect(client, node, shScript(LIST_BUNDLES), { timeoutMs: 15_000 });
    if (!listed.stdout.includes(`${PROBE_PREFIX}home-exists`)) {
      opts.log.info('purge: no agent home on the node', { node });
      return;
    }
    await stopDaemon(client, target, opts);
    const rm = await execCollect(client, node, shScript(REMOVE_AGENT_HOME), { timeoutMs: 60_000 });
    if (!rm.stdout.includes(`${PROBE_PREFIX}removed`)) {
      throw new VendettaError(
        'AGENT_ERROR',
        `Could not delete ~/.vendetta-agent on ${node}: ${rm.stderr.trim().slice(0, 300) || `exit ${rm.code}`}`,
        {
          node,
          hint: `Delete it by hand: \`ssh ${target.user}@${target.host} rm -rf .vendetta-agent\`.`,
        },
      );
    }
    // Its socket went with it: the next connect would try it first, for nothing.
    new AgentEndpoints(endpointsFile(opts.paths)).set(endpointKey(target), undefined);
    opts.log.info('purge: agent removed', { node });
  } finally {
    client.end();
  }
}

/**
 * Attaching through our own bundle reaches whichever daemon runs (one of another build is
 * replaced first, which is fine: it is about to go). A node without Node.js has no daemon.
 */
export async function stopDaemon(
  client: import('ssh2').Client,
  target: SshNodeTarget,
  opts: { log: Logger; agentBundle?: string },
): Promise<void> {
  const node = target.name;
  try {
    const bundle = await readLocalBundle(opts.agentBundle ?? agentBundlePath());
    const a = await attachAgent(client, { node, host: target.host, bundle, log: opts.log, install: true });
    let pid = a.info.pid;
    try {
      pid = (await a.session.request(Shutdown)).pid;
    } catch (err) {
      opts.log.warn('purge: agent/shutdown failed; stopping the daemon by pid', {
        node,
        pid,
        error: (err as Error).message,
      });
    }
    a.session.dispose();
    a.channel.close();
    await stopPid(client, node, pid, opts.log);
  } catch (err) {
    const e = toVendettaError(err);
    if (e.code !== 'NODE_RUNTIME_MISSING') opts.log.warn('could not stop the agent daemon', { node, error: e.message });
  }
}
