import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMessageConnection,
  ResponseError,
  SocketMessageReader,
  SocketMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import {
  COORDINATOR_PROTOCOL_VERSION,
  ErrorCodes,
  Initialize,
  ListNodes,
  ListServicesRequest,
  NodesDidChange,
  TestNode,
  type InitializeParams,
  type NodeSummary,
} from '../../../coordinator/protocol';
import { CoordinatorClient, type ConnectionState } from '../../../extension/client/coordinatorClient';
import { homeFiles } from '../../../extension/client/home';
import { errorInfo } from '../../../extension/errors';

const local: NodeSummary = {
  name: 'local',
  host: 'localhost',
  port: 22,
  user: 'dev',
  transport: 'local',
  status: 'online',
  latencyMs: 1,
  agentVersion: '0.1.0',
  providers: null,
  lastSeen: null,
};

/** A stand-in coordinator on a Unix socket: initialize, nodes/list, nodes/test failing with a hint. */
class FakeCoordinator {
  server: Server | undefined;
  readonly sockets = new Set<Socket>();
  readonly connections: MessageConnection[] = [];
  readonly hellos: InitializeParams[] = [];

  constructor(readonly socketPath: string) {}

  async start(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const c = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
      c.onRequest(Initialize, (p) => {
        this.hellos.push(p);
        return {
          protocolVersion: COORDINATOR_PROTOCOL_VERSION,
          coordinatorVersion: 'test',
          pid: process.pid,
          home: '/h',
          startedAt: new Date().toISOString(),
        };
      });
      c.onRequest(ListNodes, () => [local]);
      c.onRequest(TestNode, () => {
        throw new ResponseError(ErrorCodes.NODE_UNREACHABLE, 'The node b1 does not answer', {
          code: 'NODE_UNREACHABLE',
          hint: 'Is sshd running on b1?',
          causes: ['connect ECONNREFUSED'],
        });
      });
      c.listen();
      this.connections.push(c);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.socketPath, resolve));
  }

  /** Like a coordinator that exits: the listener and every connection go. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const c of this.connections) c.dispose();
    this.connections.length = 0;
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

function waitForState(client: CoordinatorClient, kind: ConnectionState['kind'], timeoutMs = 5000): Promise<void> {
  if (client.state.kind === kind) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`state stayed ${client.state.kind}, wanted ${kind}`)), timeoutMs);
    const sub = client.onDidChangeState((s) => {
      if (s.kind !== kind) return;
      clearTimeout(timer);
      sub.dispose();
      resolve();
    });
  });
}

describe("the extension's coordinator client", () => {
  let dir: string;
  let fake: FakeCoordinator;
  let client: CoordinatorClient | undefined;
  const logged: string[] = [];
  const log = {
    info: (m: string) => logged.push(m),
    warn: (m: string) => logged.push(m),
    error: (m: string | Error) => logged.push(String(m)),
    debug: () => undefined,
  };

  function makeClient(reconnectDelaysMs = [20, 20, 20]): CoordinatorClient {
    client = new CoordinatorClient({
      home: () => homeFiles(dir),
      cliPath: join(dir, 'no-cli.js'),
      clientInfo: { name: 'vscode', version: '9.9.9' },
      findRuntime: () => Promise.reject(new Error('this test never starts a coordinator')),
      log,
      reconnectDelaysMs,
    });
    return client;
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-ext-client-'));
    fake = new FakeCoordinator(join(dir, 'coordinator.sock'));
    await fake.start();
  });

  afterEach(async () => {
    client?.dispose();
    client = undefined;
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects on the first request and introduces itself in initialize', async () => {
    const c = makeClient();
    assert.equal(c.state.kind, 'idle');
    assert.deepEqual(await c.request(ListNodes), [local]);
    assert.equal(c.state.kind, 'connected');
    assert.deepEqual(fake.hellos, [
      { protocolVersion: COORDINATOR_PROTOCOL_VERSION, client: { name: 'vscode', version: '9.9.9' } },
    ]);
  });

  it("hands on the coordinator's notifications", async () => {
    const c = makeClient();
    await c.ensureConnected();
    const got = new Promise<NodeSummary[]>((resolve) => c.onNodes(resolve));
    await fake.connections[0]!.sendNotification(NodesDidChange, { nodes: [local] });
    assert.deepEqual(await got, [local]);
  });

  it('keeps the coordinator\'s hint and causes, and tells "method not found" apart', async () => {
    const c = makeClient();
    const err = await c.request(TestNode, { name: 'b1' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const info = errorInfo(err);
    assert.equal(info.code, 'NODE_UNREACHABLE');
    assert.equal(info.hint, 'Is sshd running on b1?');
    assert.deepEqual(info.causes, ['connect ECONNREFUSED']);
    assert.equal(info.methodNotFound, false);
    // This fake has no services requests, like a coordinator from before them.
    assert.equal(await c.optionalRequest(ListServicesRequest, { name: 'shop' }), undefined);
  });

  it('reconnects when the coordinator restarts', async () => {
    const c = makeClient([50, 100, 200, 400, 800]);
    await c.ensureConnected();
    const lost = waitForState(c, 'reconnecting');
    await fake.stop();
    await lost;
    await fake.start();
    await waitForState(c, 'connected');
    assert.deepEqual(await c.request(ListNodes), [local]);
    assert.equal(fake.hellos.length, 2);
  });

  it('gives up quietly when it does not come back, and a request then reports why', async () => {
    const c = makeClient([10, 10]);
    await c.ensureConnected();
    await fake.stop();
    await waitForState(c, 'stopped');
    // The next request would start one; this test's runtime lookup refuses, and that is the error.
    await assert.rejects(c.request(ListNodes), /never starts a coordinator/);
    assert.equal(c.state.kind, 'failed');
  });

  it('a request in flight fails when the coordinator goes away, instead of hanging', async () => {
    const c = makeClient([1000]);
    await c.ensureConnected();
    // Hold the next request unanswered, then drop the connection.
    fake.connections[0]!.onRequest(ListNodes, () => new Promise(() => undefined));
    const pending = c.request(ListNodes);
    setTimeout(() => void fake.stop(), 50);
    await assert.rejects(pending, /Lost the connection/);
  });
});
