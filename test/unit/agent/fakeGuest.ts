import type { AddressInfo } from 'node:net';
import { Server, type ServerChannel } from 'ssh2';
import { GuestConnection } from '../../../agent/providers/qemu/guestSsh';
import { generateHostKey } from '../../../agent/workspaces/hostKey';

/** One exec the fake guest received: its command, its channel, and what the client did to it. */
export interface GuestExec {
  command: string;
  channel: ServerChannel;
  /** Signal names the client sent this exec's session ("signal" requests). */
  signals: string[];
  /** The client closed the channel (or the command ended). */
  closed: boolean;
}

export interface FakeGuest {
  /** The agent's held connection to it, as the QEMU provider makes it. */
  conn: GuestConnection;
  execs: GuestExec[];
  close(): void;
}

/**
 * An in-process ssh2 server standing in for a VM's control sshd, behind the agent's own
 * GuestConnection (the pinned host key, the control key): `onExec` plays the guest's command.
 */
export async function startFakeGuest(onExec: (exec: GuestExec) => void): Promise<FakeGuest> {
  const hostKey = generateHostKey('guest');
  const control = generateHostKey('control');
  const execs: GuestExec[] = [];
  const server = new Server({ hostKeys: [hostKey.privateKeyPem] }, (client) => {
    client.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey'])));
    client.on('error', () => undefined);
    client.on('session', (accept) => {
      const session = accept();
      let current: GuestExec | undefined;
      session.on('signal', (acceptSignal, _reject, info) => {
        current?.signals.push(info.name);
        acceptSignal?.();
      });
      session.on('exec', (acceptExec, _reject, info) => {
        const exec: GuestExec = { command: info.command, channel: acceptExec(), signals: [], closed: false };
        // The channel's end (and so its close) comes only once what the client sent is read.
        exec.channel.on('close', () => (exec.closed = true)).resume();
        current = exec;
        execs.push(exec);
        onExec(exec);
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const conn = new GuestConnection({
    port: (server.address() as AddressInfo).port,
    privateKey: control.privateKeyPem,
    hostPublicKey: hostKey.publicKey,
  });
  return {
    conn,
    execs,
    close() {
      conn.close();
      server.close();
    },
  };
}
