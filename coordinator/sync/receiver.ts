/**
 * Where a sync's archive goes on the node: to the agent daemon's sync socket when it has one and
 * the transport reaches it (no process starts on the node, ~1 s less per sync on a busy node), else
 * to `agent.js sync-receive` (an agent of an older build, an sshd without streamlocal channels).
 * Both answer alike, so the sender sees one AgentCommand either way.
 */
import { PassThrough, type Duplex } from 'node:stream';
import type { SyncStreamOpening } from '../../agent/protocol';
import type { AgentClient, AgentCommand } from '../nodes/agentClient';

export async function openReceiver(client: AgentClient, workspace: string): Promise<AgentCommand> {
  const { syncSocket } = await client.connect();
  if (syncSocket && client.openNodeSocket) {
    const stream = await client.openNodeSocket(syncSocket).catch(() => undefined);
    if (stream) return streamCommand(stream, workspace);
  }
  return client.runAgentCommand(['sync-receive', workspace]);
}

/** The socket as a command: the opening line first, the answer on stdout, a clean close exits 0. */
export function streamCommand(stream: Duplex, workspace: string): AgentCommand {
  const opening: SyncStreamOpening = { workspace };
  stream.write(JSON.stringify(opening) + '\n');
  const stderr = new PassThrough();
  stderr.end();
  let failed: Error | undefined;
  stream.on('error', (err: Error) => (failed = err));
  const exit = new Promise<number>((resolve) => {
    stream.once('close', () => resolve(failed ? 255 : 0));
  });
  return { stdin: stream, stdout: stream, stderr, exit, kill: () => void stream.destroy() };
}
