/**
 * The short way to a node's agent: an SSH `direct-streamlocal@openssh.com` channel straight to
 * the daemon's Unix socket (OpenSSH allows it unless AllowStreamLocalForwarding is off). No
 * process starts on the node, and every request skips the copy through `attach`. It works only
 * when a daemon of our build already listens there; anything else is a refusal with a reason,
 * and the caller attaches instead (which starts, installs or upgrades the daemon).
 */
import type { Client, ClientChannel } from 'ssh2';
import type { InitializeResult, LogParams } from '../../agent/protocol';
import { AgentSession } from '../nodes/agentSession';
import { withTimeout } from '../../common/async/timeout';

export interface DirectAgent {
  session: AgentSession;
  channel: ClientChannel;
  info: InitializeResult;
}

export type DirectOutcome = { agent: DirectAgent; refused?: undefined } | { agent?: undefined; refused: string };

export interface DirectOptions {
  node: string;
  socket: string;
  /** The build we want; a daemon of another build is left alone (attach upgrades it). */
  buildId: string;
  onLog?: (p: LogParams) => void;
  /** Channel open and initialize together (default 5 s). */
  timeoutMs?: number;
}

/** A `direct-streamlocal@openssh.com` channel to a Unix socket on the node. */
export function openStreamLocal(client: Client, socket: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.openssh_forwardOutStreamLocal(socket, (err, channel) => (err ? reject(err) : resolve(channel)));
    } catch (err) {
      reject(err as Error);
    }
  });
}

export async function openDirectAgent(client: Client, opts: DirectOptions): Promise<DirectOutcome> {
  const timeoutMs = opts.timeoutMs ?? 5_000;
  let channel: ClientChannel | undefined;
  let session: AgentSession | undefined;
  let abandoned = false;
  const attempt = async (): Promise<DirectAgent> => {
    const ch = await openStreamLocal(client, opts.socket);
    if (abandoned) {
      ch.close();
      throw new Error('opened too late');
    }
    channel = ch;
    // The daemon ending its side (it stopped, or was killed) ends the session: sshd would
    // otherwise keep the half-closed channel open for as long as we do not close ours.
    ch.once('end', () => ch.close());
    session = new AgentSession({
      nodeName: opts.node,
      input: ch,
      output: ch,
      onLog: opts.onLog,
      handshakeTimeoutMs: timeoutMs,
    });
    return { session, channel: ch, info: await session.initialize() };
  };
  try {
    const agent = await withTimeout(attempt(), timeoutMs, () => new Error(`no answer within ${timeoutMs / 1000} s`));
    if (agent.info.buildId !== opts.buildId) {
      close(agent.session, agent.channel);
      return { refused: `the daemon there runs build ${agent.info.buildId}, not ${opts.buildId}` };
    }
    return { agent };
  } catch (err) {
    abandoned = true;
    close(session, channel);
    return { refused: err instanceof Error ? err.message : String(err) };
  }
}

function close(session: AgentSession | undefined, channel: ClientChannel | undefined): void {
  session?.dispose();
  channel?.close();
}
