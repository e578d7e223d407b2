import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMessageConnection,
  ResponseError,
  SocketMessageReader,
  SocketMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import { createHandlers } from '../../../coordinator/daemon/handlers';
import { CoordinatorServer } from '../../../coordinator/daemon/server';
import { homePaths, type HomePaths } from '../../../coordinator/home';
import { NodeManager } from '../../../coordinator/nodes/nodeManager';
import { NodeRegistry } from '../../../coordinator/nodes/registry';
import {
  AddNode,
  COORDINATOR_PROTOCOL_VERSION,
  ErrorCodes,
  Initialize,
  ListNodes,
  LogLinesNotification,
  LogsRequest,
  NodesDidChange,
  ProgressNotification,
  TestNode,
  type NodeSummary,
  type ProgressParams,
} from '../../../coordinator/protocol';
import { fakeKey, FakeAgentClient, FakeSsh, nullLog } from '../nodes/fakes';

interface Raw {
  socket: Socket;
  /** Everything received, and whether the server closed the connection. */
  received: () => string;
  closed: Promise<void>;
}

function raw(path: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let buf = '';
    socket.on('data', (d) => (buf += d.toString('utf8')));
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.once('connect', () => resolve({ socket, received: () => buf, closed }));
    socket.once('error', reject);
  });
}

function frame(body: string): string {
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** The JSON bodies in what a raw client received. */
function bodies(
  text: string,
): Array<{ id?: unknown; error?: { code: number; message: string; data?: { code: string; hint?: string } } }> {
  return text
    .split(/Content-Length: \d+\r\n\r\n/)
    .filter(Boolean)
    .map((b) => JSON.parse(b));
}

describe('the coordinator socket', () => {
  let dir: string;
  let paths: HomePaths;
  let server: CoordinatorServer;
  let manager: NodeManager;
  let registry: NodeRegistry;
  let ssh: FakeSsh;
  const open: Array<{ dispose(): void }> = [];

  async function client(initialize = true): Promise<MessageConnection> {
    const s = await raw(paths.socket);
    const c = createMessageConnection(new SocketMessageReader(s.socket), new SocketMessageWriter(s.socket));
    c.listen();
    open.push({ dispose: () => (c.dispose(), s.socket.destroy()) });
    if (initialize)
      await c.sendRequest(Initialize, {
        protocolVersion: COORDINATOR_PROTOCOL_VERSION,
        client: { name: 'test', version: '0' },
      });
    return c;
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-server-'));
    paths = homePaths(dir);
    registry = new NodeRegistry(paths, nullLog);
    registry.reload();
    ssh = new FakeSsh();
    ssh.presented.set('10.0.0.1:22', fakeKey('one'));
    manager = new NodeManager({
      paths,
      log: nullLog,
      registry,
      ssh,
      agentBundle: '/x',
      createLocalClient: () => new FakeAgentClient('local'),
    });
    server = new CoordinatorServer({
      socketPath: paths.socket,
      log: nullLog,
      partialMessageTimeoutMs: 200,
      handlers: createHandlers({
        paths,
        manager,
        registry,
        ssh,
        startedAt: new Date(),
        clientCount: () => server.clientCount,
        shutdown: () => undefined,
      }),
    });
    await server.listen();
    manager.onDidChange((nodes) => server.broadcast(NodesDidChange, { nodes }));
    manager.start();
  });

  afterEach(async () => {
    for (const o of open.splice(0)) o.dispose();
    await server.close(true);
    await manager.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is a 0600 socket', () => {
    assert.equal(statSync(paths.socket).mode & 0o777, 0o600);
  });

  it('requires initialize first, and refuses another protocol version saying what to upgrade', async () => {
    const c = await client(false);
    await assert.rejects(
      c.sendRequest(ListNodes),
      (e: ResponseError<{ code: string; hint: string }>) =>
        e.data?.code === 'PROTOCOL_MISMATCH' && /initialize/.test(e.data.hint),
    );
    await assert.rejects(
      c.sendRequest(Initialize, {
        protocolVersion: COORDINATOR_PROTOCOL_VERSION + 1,
        client: { name: 'vendetta-cli', version: '9.0.0' },
      }),
      (e: ResponseError<{ code: string; hint: string }>) =>
        e.code === ErrorCodes.PROTOCOL_MISMATCH && /coordinator stop/.test(e.data?.hint ?? ''),
    );
    await assert.rejects(
      c.sendRequest(Initialize, { protocolVersion: 0, client: { name: 'old-ext', version: '0.0.1' } }),
      (e: ResponseError<{ hint: string }>) => /Upgrade old-ext/.test(e.data?.hint ?? ''),
    );
    await c.sendRequest(Initialize, {
      protocolVersion: COORDINATOR_PROTOCOL_VERSION,
      client: { name: 'test', version: '0' },
    });
    const nodes = await c.sendRequest(ListNodes);
    assert.equal(nodes[0]?.name, 'local');
  });

  it('answers bad params and unknown methods with typed errors', async () => {
    const c = await client();
    await assert.rejects(
      c.sendRequest(TestNode, { name: '../x' }),
      (e: ResponseError<{ code: string; hint: string }>) =>
        e.code === ErrorCodes.INVALID_NAME && e.data?.code === 'INVALID_NAME' && !!e.data.hint,
    );
    await assert.rejects(
      c.sendRequest(TestNode, { name: 'ghost' }),
      (e: ResponseError<{ code: string }>) => e.data?.code === 'NODE_NOT_FOUND',
    );
    await assert.rejects(
      c.sendRequest('nodes/frobnicate', {}),
      (e: ResponseError<{ code: string }>) => e.code === -32601 && e.data?.code === 'METHOD_NOT_FOUND',
    );
    await assert.rejects(
      c.sendRequest('nodes/test', ['positional']),
      (e: ResponseError<{ code: string }>) => e.data?.code === 'INVALID_PARAMS',
    );
  });

  for (const [what, bytes] of [
    ['a header without Content-Length', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a body that is not JSON', frame('{"jsonrpc": "2.0", "id": 1, "method": ')],
    ['a truncated message', 'Content-Length: 500\r\n\r\n{"jsonrpc":"2.0","id":1,"method":"nodes/list"'],
    ['bytes without any header end', 'garbage garbage garbage'],
  ] as const) {
    it(`answers ${what} with an error, closes that client, and keeps serving the others`, async () => {
      const good = await client();
      const bad = await raw(paths.socket);
      bad.socket.write(bytes);
      await bad.closed;
      const [reply] = bodies(bad.received());
      assert.equal(reply?.id, null);
      assert.equal(reply?.error?.data?.code, 'INVALID_PARAMS');
      assert.match(reply?.error?.message ?? '', /JSON-RPC message/);
      assert.equal((await good.sendRequest(ListNodes))[0]?.name, 'local');
      assert.equal((await (await client()).sendRequest(ListNodes)).length, 1);
    });
  }

  it('answers JSON that is not JSON-RPC with an error and keeps the connection', async () => {
    const r = await raw(paths.socket);
    r.socket.write(frame(JSON.stringify({ hello: 'world', id: 7 })));
    r.socket.write(
      frame(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 8,
          method: 'initialize',
          params: { protocolVersion: COORDINATOR_PROTOCOL_VERSION, client: { name: 't', version: '0' } },
        }),
      ),
    );
    const deadline = Date.now() + 2000;
    while (bodies(r.received()).length < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    const [first, second] = bodies(r.received());
    assert.equal(first?.id, 7);
    assert.equal(first?.error?.data?.code, 'INVALID_PARAMS');
    assert.equal(second?.id, 8);
    assert.equal(second?.error, undefined);
    r.socket.destroy();
  });

  it('reports progress of nodes/add to the client that passed a progressToken, and nodes/didChange to all', async () => {
    const c = await client();
    const other = await client();
    const progress: ProgressParams[] = [];
    const changes: NodeSummary[][] = [];
    c.onNotification(ProgressNotification.method, (p: ProgressParams) => void progress.push(p));
    other.onNotification(NodesDidChange.method, (p: { nodes: NodeSummary[] }) => void changes.push(p.nodes));
    await c.sendRequest(AddNode, { name: 'b1', host: '10.0.0.1', acceptNewHostKey: true, progressToken: 'tok' });
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(
      progress.map((p) => [p.token, p.step, p.total]),
      [
        ['tok', 1, 4],
        ['tok', 2, 4],
        ['tok', 3, 4],
        ['tok', 4, 4],
      ],
    );
    assert.equal(progress[0]?.elapsedMs, undefined);
    assert.ok((progress[1]?.elapsedMs ?? -1) >= 0);
    assert.ok(
      changes.some((nodes) => nodes.some((n) => n.name === 'b1')),
      'the other client heard of the new node',
    );
  });

  it('disconnects a client that stops reading while logs stream (a paused `logs -f`), logs why, and keeps serving', async () => {
    const warnings: Array<{ message: string; fields: Record<string, unknown> | undefined }> = [];
    const log = {
      ...nullLog,
      warn: (message: string, fields?: Record<string, unknown>) => void warnings.push({ message, fields }),
    };
    const limit = 1024 * 1024;
    const batch = Array.from({ length: 64 }, (_, i) => ({
      time: new Date().toISOString(),
      service: 'web',
      stream: 'stdout' as const,
      line: `line ${i} ${'x'.repeat(200)}`,
    }));
    let batches = 0;
    let stoppedStreaming: () => void = () => undefined;
    const stopped = new Promise<void>((r) => (stoppedStreaming = r));
    const handlers = createHandlers({
      paths,
      manager,
      registry,
      ssh,
      startedAt: new Date(),
      clientCount: () => 0,
      shutdown: () => undefined,
    });
    const streaming = new CoordinatorServer({
      socketPath: join(dir, 'logs.sock'),
      log,
      maxClientBacklogBytes: limit,
      handlers: {
        ...handlers,
        // Follows the "node's" logs for as long as the client is there, as services/readLogs -f does.
        readServiceLogs: {
          validate: (raw) => raw as never,
          run: (params, { client }) => {
            const pump = () => {
              if (client.gone.isCancellationRequested) return stoppedStreaming();
              batches++;
              client.notify(LogLinesNotification, { followToken: params.followToken ?? '', lines: batch });
              setImmediate(pump);
            };
            setImmediate(pump);
            return { lines: [] };
          },
        },
      },
    });
    await streaming.listen();
    try {
      const paused = await raw(join(dir, 'logs.sock'));
      paused.socket.write(
        frame(
          JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: Initialize.method,
            params: { protocolVersion: COORDINATOR_PROTOCOL_VERSION, client: { name: 'cli', version: '0' } },
          }),
        ),
      );
      paused.socket.write(
        frame(
          JSON.stringify({
            jsonrpc: '2.0',
            id: 2,
            method: LogsRequest.method,
            params: { workspace: 'shop', follow: true, followToken: 'f1' },
          }),
        ),
      );
      // Reads the answers, then stops reading, as a terminal paused with Ctrl-S does.
      while (!paused.received().includes('"id":2')) await new Promise((r) => setTimeout(r, 5));
      paused.socket.pause();
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000).unref());
      assert.notEqual(
        await Promise.race([stopped, timeout]),
        'timeout',
        `still streaming to a client that reads nothing after ${batches} batches`,
      );
      const [warning] = warnings.filter((w) => w.message === 'disconnected a client that stopped reading');
      assert.ok(warning, JSON.stringify(warnings));
      const unread = warning.fields?.unreadBytes as number;
      const batchBytes = JSON.stringify(batch).length;
      assert.ok(
        unread > limit && unread <= limit + 2 * batchBytes,
        `held ${unread} bytes for it; the bound is ${limit} plus one message`,
      );
      assert.equal(streaming.clientCount, 0);
      // The coordinator is fine: a new client is served at once.
      const s = await raw(join(dir, 'logs.sock'));
      s.socket.write(
        frame(
          JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method: Initialize.method,
            params: { protocolVersion: COORDINATOR_PROTOCOL_VERSION, client: { name: 'cli', version: '0' } },
          }),
        ),
      );
      s.socket.write(frame(JSON.stringify({ jsonrpc: '2.0', id: 2, method: ListNodes.method })));
      const deadline = Date.now() + 2000;
      while (bodies(s.received()).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(bodies(s.received())[1]?.error, undefined);
      s.socket.destroy();
      paused.socket.destroy();
    } finally {
      await streaming.close(true);
    }
  });
});
