/**
 * A live agent session on an authenticated SSH connection, the quickest way that works:
 * 1. straight to the daemon's socket (streamlocal channel) when we know where it listens and it
 *    runs our build — nothing starts on the node;
 * 2. otherwise the probe script and `attach` (finds Node.js, installs or upgrades the bundle,
 *    starts the daemon), then, once the daemon said where its socket is, a streamlocal channel
 *    to it replaces the attach channel, so later requests skip the attach process's copy. After
 *    a fresh install the script starts the daemon itself and the channel goes to its socket at
 *    once: no attach process runs at all.
 * What worked is remembered in state/agent-endpoints.json for the next coordinator.
 */
import type { Client, ClientChannel } from 'ssh2';
import type { InitializeResult } from '../../agent/protocol';
import { attachAgent, type AttachOptions } from '../ssh/agentAttach';
import { openDirectAgent } from '../ssh/agentDirect';
import type { LocalBundle } from '../ssh/localBundle';
import type { ProvidedRuntime } from '../ssh/provideRuntime';
import { validEndpoint, type AgentEndpoint, type AgentEndpoints } from './agentEndpoints';
import type { AgentSession } from './agentSession';

export interface OpenedSession {
  agent: AgentSession;
  channel: ClientChannel;
  info: InitializeResult;
  /** argv that runs the installed agent.js on the node (Node.js binary first). */
  command: string[];
  via: 'direct' | 'attach';
  /** An `attach` process ran on the node for this session (even if a direct channel replaced it). */
  attachProcess: boolean;
  installed: boolean;
  upgraded: boolean;
  /** Set when this session's attach brought the node a Node.js. */
  runtimeProvided?: ProvidedRuntime;
}

/** What attach takes, and how to reach a daemon that already runs. */
export interface OpenSessionOptions
  extends Pick<AttachOptions, 'node' | 'host' | 'bundle' | 'log' | 'install' | 'runtime' | 'onStatus'> {
  endpoints: AgentEndpoints;
  endpointKey: string;
  /** false once the node refused a streamlocal channel to a running daemon on this connection. */
  tryDirect: boolean;
  onDirectRefused: () => void;
}

/** The endpoint a daemon of `bundle`'s build reported, when it reported one we can use. */
export function endpointOf(
  info: InitializeResult,
  bundle: LocalBundle,
): (AgentEndpoint & { execPath: string; script: string }) | undefined {
  const e = validEndpoint({ socket: info.socket, buildId: info.buildId, execPath: info.execPath, script: info.script });
  return e && e.buildId === bundle.buildId && e.execPath && e.script
    ? { ...e, execPath: e.execPath, script: e.script }
    : undefined;
}

export async function openAgentSession(ssh: Client, o: OpenSessionOptions): Promise<OpenedSession> {
  const onLog = (p: { level: 'error' | 'warn' | 'info' | 'debug'; message: string }) =>
    o.log.log(p.level, p.message, { node: o.node, from: 'agent' });
  const direct = async (
    e: AgentEndpoint & { execPath: string; script: string },
    installed: boolean,
    upgraded: boolean,
  ): Promise<OpenedSession | undefined> => {
    const r = await openDirectAgent(ssh, { node: o.node, socket: e.socket, buildId: o.bundle.buildId, onLog });
    if (!r.agent) {
      o.log.debug('no streamlocal channel to the agent', { node: o.node, socket: e.socket, reason: r.refused });
      return undefined;
    }
    return {
      agent: r.agent.session,
      channel: r.agent.channel,
      info: r.agent.info,
      command: [e.execPath, e.script],
      via: 'direct',
      attachProcess: false,
      installed,
      upgraded,
    };
  };

  const known = o.tryDirect ? o.endpoints.get(o.endpointKey) : undefined;
  if (known?.buildId === o.bundle.buildId && known.execPath && known.script) {
    const s = await direct({ ...known, execPath: known.execPath, script: known.script }, false, false);
    if (s) return s;
    o.endpoints.set(o.endpointKey, undefined); // stale: the attach below learns it afresh
  }

  let refused = false;
  const a = await attachAgent(ssh, {
    node: o.node,
    host: o.host,
    bundle: o.bundle,
    log: o.log,
    install: o.install,
    runtime: o.runtime,
    onStatus: o.onStatus,
    onLog,
    // A daemon started by this attach is reached on its socket at once, with no attach process.
    ...(o.tryDirect
      ? {
          direct: {
            refused: () => {
              refused = true;
              o.onDirectRefused();
            },
          },
        }
      : {}),
  });
  const attached: OpenedSession = {
    agent: a.session,
    channel: a.channel,
    info: a.info,
    command: [a.runtime.path, `${a.home}/.vendetta-agent/${o.bundle.dirName}/agent.js`],
    via: a.direct ? 'direct' : 'attach',
    attachProcess: !a.direct,
    installed: a.installed,
    upgraded: a.upgraded,
    ...(a.runtimeProvided ? { runtimeProvided: a.runtimeProvided } : {}),
  };
  const endpoint = endpointOf(a.info, o.bundle);
  // Refused once on this connection (AllowStreamLocalForwarding no): not asked again.
  if (!endpoint || !o.tryDirect || refused) return attached;
  const remember = (e: typeof endpoint) =>
    o.endpoints.set(o.endpointKey, { socket: e.socket, buildId: e.buildId, execPath: e.execPath, script: e.script });
  if (a.direct) {
    remember(endpoint);
    return attached;
  }
  const d = await direct(endpoint, a.installed, a.upgraded);
  const s = d && { ...d, attachProcess: true, ...(a.runtimeProvided ? { runtimeProvided: a.runtimeProvided } : {}) };
  if (!s) {
    o.onDirectRefused(); // the daemon runs, so the node forbids the channel (AllowStreamLocalForwarding)
    return attached;
  }
  a.session.dispose();
  a.channel.close();
  remember(endpoint);
  return s;
}
