import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handshake, openSocket } from '../../../extension/client/connection';

/** A coordinator socket that accepts and then does what `onConnect` says (never answering). */
async function listen(path: string, onConnect: (s: Socket) => void): Promise<Server> {
  const server = createServer(onConnect);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return server;
}

describe("the extension's handshake with the coordinator", () => {
  let dir: string;
  let server: Server | undefined;
  const held: Socket[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-handshake-'));
  });

  afterEach(async () => {
    for (const s of held.splice(0)) s.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives up with a clear error when the coordinator accepts but never answers initialize', async () => {
    const path = join(dir, 'coordinator.sock');
    server = await listen(path, (s) => held.push(s));
    const socket = await openSocket(path);
    assert.ok(socket);
    await assert.rejects(handshake(socket, { name: 'test', version: '0' }, 50), {
      message: 'The coordinator did not answer initialize within 0.05 s',
    });
    assert.ok(socket.destroyed);
  });

  it('says so when the coordinator closes the connection during initialize', async () => {
    const path = join(dir, 'coordinator.sock');
    server = await listen(path, (s) => {
      held.push(s);
      s.end();
    });
    const socket = await openSocket(path);
    assert.ok(socket);
    await assert.rejects(handshake(socket, { name: 'test', version: '0' }, 5_000), {
      message: 'The coordinator closed the connection during initialize',
    });
  });
});
