import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { AgentError } from '../../../agent/errors';
import { LxdClient } from '../../../agent/providers/lxc/client';
import { lxdExec } from '../../../agent/providers/lxc/exec';

const fixture = (name: string) => readFileSync(join(__dirname, '../../fixtures/agent', name), 'utf8');
const ROOT = { uid: 0, gid: 0, home: '/root' };

/**
 * An LXD that answers the exec with its recorded reply and refuses the stdout stream's first
 * `refusals` attaches with a 500, as a cluster member does that has not yet seen an operation
 * another member runs; once all four streams are attached, the command "runs": stdout gets a
 * line, the streams close, and the wait gives the recorded exit code (3).
 */
function fakeLxd(
  socket: string,
  refuse: (attempt: number, execs: number) => boolean,
): { server: Server; attempts: () => number; execs: () => number; cancels: () => number } {
  const reply = JSON.parse(fixture('lxd-exec-async.json')) as {
    metadata: { metadata: { fds: Record<string, string> } };
  };
  const fds = reply.metadata.metadata.fds;
  const wss = new WebSocketServer({ noServer: true });
  const attached = new Map<string, WebSocket>();
  let stdoutAttempts = 0;
  let execs = 0;
  let cancels = 0;
  let allAttached: () => void = () => undefined;
  const ready = new Promise<void>((r) => (allAttached = r));
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.endsWith('/exec')) {
      execs++;
      res.writeHead(202, { 'content-type': 'application/json' }).end(fixture('lxd-exec-async.json'));
    } else if (req.url?.includes('/wait')) {
      void ready.then(() => {
        attached.get(fds['1']!)!.send(Buffer.from('hello\n'));
        for (const ws of attached.values()) ws.close();
        res.writeHead(200, { 'content-type': 'application/json' }).end(fixture('lxd-operation-exec-done.json'));
      });
    } else if (req.method === 'DELETE' && req.url?.startsWith('/1.0/operations/')) {
      cancels++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"type":"sync","metadata":{}}');
    } else res.writeHead(404).end('{}');
  });
  server.on('upgrade', (req, sock, head) => {
    const secret = new URL(req.url!, 'http://lxd').searchParams.get('secret')!;
    if (secret === fds['1'] && refuse(++stdoutAttempts, execs)) {
      const body = '{"type":"error","error":"websocket: bad handshake","error_code":500}';
      sock.end(`HTTP/1.1 500 Internal Server Error\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, sock, head, (ws) => {
      attached.set(secret, ws);
      if (attached.size === 4) allAttached();
    });
  });
  server.listen(socket);
  return { server, attempts: () => stdoutAttempts, execs: () => execs, cancels: () => cancels };
}

describe('LXC exec: attaching its streams', function () {
  this.timeout(10_000);
  let dir: string;
  let server: Server | undefined;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vendetta-lxd-attach-'))));
  afterEach(() => {
    server?.close();
    server?.closeAllConnections();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tries a stream LXD refused with a 500 again, and the command runs once all four are attached', async () => {
    const socket = join(dir, 'lxd.sock');
    const fake = fakeLxd(socket, (attempt) => attempt <= 2);
    server = fake.server;
    const r = await lxdExec(new LxdClient(socket), 'vendetta-rec', ['sh', '-c', 'exit 3'], ROOT);
    assert.deepEqual([r.exitCode, r.stdout], [3, 'hello\n']);
    assert.deepEqual([fake.attempts(), fake.execs(), fake.cancels()], [3, 1, 0]);
  });

  it('starts the command anew when LXD refuses every attach of one operation, and cancels that one', async () => {
    const socket = join(dir, 'lxd.sock');
    const fake = fakeLxd(socket, (_attempt, execs) => execs === 1);
    server = fake.server;
    const r = await lxdExec(new LxdClient(socket), 'vendetta-rec', ['sh', '-c', 'exit 3'], ROOT);
    assert.deepEqual([r.exitCode, r.stdout], [3, 'hello\n']);
    assert.deepEqual(
      [fake.attempts(), fake.execs(), fake.cancels()],
      [4, 2, 1],
      'three tries on the first, one on the second',
    );
  });

  it('gives up after three commands refused three times each, with LXD’s words in the cause', async () => {
    const socket = join(dir, 'lxd.sock');
    const fake = fakeLxd(socket, () => true);
    server = fake.server;
    await assert.rejects(lxdExec(new LxdClient(socket), 'vendetta-rec', ['true'], ROOT), (e: unknown) => {
      assert.ok(e instanceof AgentError);
      assert.equal(e.code, 'PROVIDER_ERROR');
      assert.match(e.message, /could not attach to a command in the instance vendetta-rec/);
      assert.match(String((e.cause as Error).message), /^LXD answered 500: .*websocket: bad handshake/);
      return true;
    });
    assert.deepEqual([fake.attempts(), fake.execs(), fake.cancels()], [9, 3, 3]);
  });
});
