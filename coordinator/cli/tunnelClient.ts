/**
 * The client half of a coordinator tunnel: ask for it over JSON-RPC (`tunnels/open`), then open a
 * second connection to coordinator.sock, send the token line, wait for the OK line, and hand
 * back the socket as a raw pipe to the workspace's sshd.
 */
import { connect, type Socket } from 'node:net';
import { VendettaError } from '../errors';
import type { HomePaths } from '../home';
import {
  TUNNEL_ERROR,
  TUNNEL_OK,
  TUNNEL_PREAMBLE,
  TunnelOpen,
  type TunnelOpenParams,
  type TunnelOpenResult,
} from '../protocol';
import type { CoordinatorClient } from './client';

export interface OpenedTunnel {
  socket: Socket;
  info: TunnelOpenResult;
}

const MAX_ANSWER = 4096;

/** Connects with the token and waits for the coordinator's answer line; the socket comes back paused. */
export function attachTunnel(paths: HomePaths, token: string, timeoutMs = 15_000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(paths.socket);
    let buf = Buffer.alloc(0);
    const fail = (e: VendettaError) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    const timer = setTimeout(
      () =>
        fail(
          new VendettaError('TUNNEL_FAILED', `The coordinator did not open the tunnel within ${timeoutMs / 1000} s`, {
            hint: `See ${paths.logsDir}/coordinator.log.`,
          }),
        ),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(10);
      if (nl < 0) {
        if (buf.length > MAX_ANSWER)
          fail(
            new VendettaError('TUNNEL_FAILED', 'The coordinator sent no tunnel answer line', {
              hint: 'Restart it with `vendetta coordinator stop`; the next command starts it again.',
            }),
          );
        return;
      }
      const line = buf.subarray(0, nl).toString('utf8');
      const rest = buf.subarray(nl + 1);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      clearTimeout(timer);
      if (line === TUNNEL_OK) {
        if (rest.length) socket.unshift(rest);
        resolve(socket);
        return;
      }
      let body: { code?: string; message?: string; hint?: string } = {};
      if (line.startsWith(TUNNEL_ERROR)) {
        try {
          body = JSON.parse(line.slice(TUNNEL_ERROR.length)) as typeof body;
        } catch {
          // keep the generic message
        }
      }
      fail(
        new VendettaError(
          'TUNNEL_FAILED',
          body.message ?? `The coordinator refused the tunnel: ${line.slice(0, 200)}`,
          { hint: body.hint ?? 'Run the command again.' },
        ),
      );
    };
    const onClose = () =>
      fail(
        new VendettaError('TUNNEL_FAILED', 'The coordinator closed the tunnel before it opened', {
          hint: `See ${paths.logsDir}/coordinator.log.`,
        }),
      );
    socket.once('connect', () => socket.write(`${TUNNEL_PREAMBLE}${token}\n`));
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.once('error', (err) =>
      fail(
        new VendettaError('TUNNEL_FAILED', `Cannot connect to the coordinator: ${err.message}`, {
          cause: err,
          hint: 'Run the command again; it starts the coordinator.',
        }),
      ),
    );
  });
}

/** tunnels/open, then the raw connection. */
export async function openTunnel(client: CoordinatorClient, params: TunnelOpenParams): Promise<OpenedTunnel> {
  const info = await client.request(TunnelOpen, params);
  const socket = await attachTunnel(client.paths, info.token);
  return { socket, info };
}
