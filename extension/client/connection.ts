/**
 * One JSON-RPC connection to coordinator.sock: open the socket, send `initialize`, and report
 * when it closes. No auto-start here (launcher.ts), no reconnect (coordinatorClient.ts).
 */
import { connect, type Socket } from 'node:net';
import { createMessageConnection, type MessageConnection } from 'vscode-jsonrpc/node';
import { COORDINATOR_PROTOCOL_VERSION, Initialize, type InitializeResult } from '../../coordinator/protocol';
import { withTimeout } from '../../common/async/timeout';
import { FrameReader } from '../../common/rpc/frameReader';
import { FrameWriter } from '../../common/rpc/frameWriter';
import { ExtensionError } from '../errors';

export interface OpenConnection {
  socket: Socket;
  connection: MessageConnection;
  info: InitializeResult;
  /** Resolves once when the socket closes (the coordinator stopped or we disposed). */
  closed: Promise<void>;
}

/** Connects to a Unix socket, or resolves undefined when nobody listens there. */
export function openSocket(socketPath: string, timeoutMs = 2000): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(undefined);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(undefined);
    });
  });
}

export async function handshake(
  socket: Socket,
  client: { name: string; version: string },
  timeoutMs = 10_000,
): Promise<OpenConnection> {
  const connection = createMessageConnection(new FrameReader(socket), new FrameWriter(socket));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  connection.listen();
  try {
    const info = await withTimeout(
      Promise.race([
        connection.sendRequest(Initialize, { protocolVersion: COORDINATOR_PROTOCOL_VERSION, client }),
        closed.then(() => {
          throw new ExtensionError('The coordinator closed the connection during initialize');
        }),
      ]),
      timeoutMs,
      () => new ExtensionError(`The coordinator did not answer initialize within ${timeoutMs / 1000} s`),
    );
    return { socket, connection, info, closed };
  } catch (err) {
    connection.dispose();
    socket.destroy();
    throw err;
  }
}
