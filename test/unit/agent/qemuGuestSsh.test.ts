import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Server, type ServerChannel } from 'ssh2';
import { GuestConnection } from '../../../agent/providers/qemu/guestSsh';
import { generateHostKey } from '../../../agent/workspaces/hostKey';

/**
 * The agent's held SSH connection into a VM, against an in-process ssh2 server standing in for
 * the guest's control sshd: the command `hold MS` answers after MS milliseconds, `forever` never.
 */
describe('QEMU: the held SSH connection into the VM bounds a command only when asked to', function () {
  const hostKey = generateHostKey('guest');
  const control = generateHostKey('control');
  let server: Server;
  let conn: GuestConnection;

  before(async () => {
    server = new Server({ hostKeys: [hostKey.privateKeyPem] }, (client) => {
      client.on('authentication', (ctx) => (ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey'])));
      client.on('error', () => undefined);
      client.on('session', (accept) => {
        accept().on('exec', (acceptExec, _reject, info) => {
          const ch: ServerChannel = acceptExec();
          const held = /^hold (\d+)$/.exec(info.command);
          if (!held) return; // `forever`: the channel stays open
          setTimeout(() => {
            ch.write('done\n');
            ch.exit(0);
            ch.end();
          }, Number(held[1]));
        });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    conn = new GuestConnection({
      port: (server.address() as AddressInfo).port,
      privateKey: control.privateKeyPem,
      hostPublicKey: hostKey.publicKey,
    });
  });

  after(() => {
    conn?.close();
    server?.close();
  });

  it('timeoutMs 0 (a service that runs until stopped) waits for the command however long it takes', async () => {
    const r = await conn.run('hold 300', { timeoutMs: 0 });
    assert.deepEqual([r.exitCode, r.stdout], [0, 'done\n']);
  });

  it('a positive timeoutMs ends a command that does not finish, with a clear error', async () => {
    await assert.rejects(conn.run('forever', { timeoutMs: 200 }), /A command in the VM did not finish within 0\.2 s/);
    const r = await conn.run('hold 10', {});
    assert.equal(r.stdout, 'done\n', 'the connection still serves the next command');
  });
});
