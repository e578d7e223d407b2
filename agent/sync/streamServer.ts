/**
 * The daemon's sync socket: each connection is one sync stream (protocol: SYNC_STREAM in
 * workspaces.ts), applied exactly as `sync-receive` applies it (runSyncReceive), under the same
 * workspace lock, but without a Node.js process to start on the node for every sync (~1 s of
 * every `up` on a busy node). Whatever a connection sends, only that connection suffers.
 */
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { AgentError } from '../errors';
import type { Logger } from '../log/logger';
import { NAME_PATTERN, SYNC_STREAM_OPENING_MAX, type SyncStreamOpening } from '../protocol';
import type { WorkspaceManager } from '../workspaces/manager';
import { errorLine, runSyncReceive } from './cli';
import type { SyncHold } from './hold';

/** A connection that has not said which workspace within this long is dropped. */
const OPENING_TIMEOUT_MS = 10_000;

/** The workspace an opening line names, or why it names none. */
export function parseOpening(line: string): string | AgentError {
  let v: Partial<SyncStreamOpening> | undefined;
  try {
    v = JSON.parse(line) as Partial<SyncStreamOpening>;
  } catch {
    v = undefined;
  }
  return typeof v?.workspace === 'string' && NAME_PATTERN.test(v.workspace) ? v.workspace : badOpening();
}

function badOpening(): AgentError {
  return new AgentError('INVALID_PARAMS', 'The sync stream must open with a line {"workspace": NAME}', {
    hint: 'Upgrade vendetta so the coordinator and the agent match.',
  });
}

/** The workspace's lock, taken inside the daemon: held until `release`. */
export async function holdInDaemon(
  workspaces: Pick<WorkspaceManager, 'holdForSync' | 'syncReceived'>,
  name: string,
): Promise<SyncHold> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const target = await workspaces.holdForSync(name, released);
  return { target, received: (paths) => workspaces.syncReceived(name, paths), release };
}

/** Serves one connection of the sync socket: the opening line, then the archive, then one JSON line back. */
export function serveSyncStream(socket: Socket, hold: (workspace: string) => Promise<SyncHold>, logger: Logger): void {
  let head = Buffer.alloc(0);
  socket.setTimeout(OPENING_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', () => undefined);
  const answer = (line: string) => {
    socket.end(line + '\n');
    // Whatever else the client sends (the archive's padding) is read and dropped, so it can finish.
    socket.resume();
  };
  const onOpening = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const nl = head.indexOf(0x0a);
    if (nl < 0) {
      if (head.length > SYNC_STREAM_OPENING_MAX) {
        socket.off('data', onOpening);
        answer(errorLine(badOpening()));
      }
      return;
    }
    socket.off('data', onOpening);
    socket.pause();
    socket.setTimeout(0);
    const workspace = parseOpening(head.subarray(0, nl).toString('utf8'));
    if (workspace instanceof AgentError) {
      answer(errorLine(workspace));
      return;
    }
    // The archive, with the workspace's lock taken before any of it is read (as sync-receive does).
    const archive = new PassThrough();
    archive.on('error', () => undefined);
    const rest = head.subarray(nl + 1);
    if (rest.length) archive.write(rest);
    socket.pipe(archive);
    // A client gone mid-stream ends the archive short: the receive refuses it and lets go of the lock.
    socket.on('close', () => {
      if (!archive.writableEnded) archive.destroy(new Error('the sync stream was cut off'));
    });
    let out = '';
    const stdout = new PassThrough();
    stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    void runSyncReceive({ workspace, hold: () => hold(workspace), stdin: archive, stdout, logger })
      .catch(() => undefined)
      .then(() => {
        socket.unpipe(archive);
        answer(out.trim());
      });
  };
  socket.on('data', onOpening);
}
