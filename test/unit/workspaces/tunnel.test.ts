import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinatorClient } from '../../../coordinator/cli/client';
import { attachTunnel, openTunnel } from '../../../coordinator/cli/tunnelClient';
import { createHandlers } from '../../../coordinator/daemon/handlers';
import { CoordinatorServer } from '../../../coordinator/daemon/server';
import { VendettaError } from '../../../coordinator/errors';
import { homePaths, type HomePaths } from '../../../coordinator/home';
import { nullLogger } from '../../../coordinator/log';
import { NodeManager } from '../../../coordinator/nodes/nodeManager';
import { NodeRegistry } from '../../../coordinator/nodes/registry';
import { ListNodes, StopWorkspaceRequest, TUNNEL_PREAMBLE, TunnelOpen } from '../../../coordinator/protocol';
import { WorkspaceManager } from '../../../coordinator/workspaces/manager';
import { TunnelRegistry } from '../../../coordinator/workspaces/tunnels';
import { FakeAgentClient, FakeSsh } from '../nodes/fakes';
import { FakeWorkspaceAgent, writeProject } from './fakeAgent';

function once(s: Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const on = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= bytes) {
        s.off('data', on);
        resolve(buf);
      }
    };
    s.on('data', on);
    s.resume(); // a tunnel socket is handed over paused, so no byte is lost before a reader is there
  });
}

describe('raw tunnels through coordinator.sock', () => {
  let dir: string;
  let paths: HomePaths;
  let server: CoordinatorServer;
  let nodes: NodeManager;
  let tunnels: TunnelRegistry;
  let echo: Server;
  let agent: FakeWorkspaceAgent;
  const clients: CoordinatorClient[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-tunnel-'));
    paths = homePaths(join(dir, 'home'));
    echo = createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
    agent = new FakeWorkspaceAgent('local', join(dir, 'nodes'));
    agent.sshPort = (echo.address() as { port: number }).port;
    const registry = new NodeRegistry(paths, nullLogger);
    registry.reload();
    nodes = new NodeManager({
      paths,
      log: nullLogger,
      registry,
      ssh: new FakeSsh(),
      agentBundle: '/x',
      createLocalClient: () => new FakeAgentClient('local'),
    });
    const workspaces = new WorkspaceManager({
      paths,
      log: nullLogger,
      nodes: { agentClient: () => agent },
      proxyCommand: ['/n', '/v', 'ssh-proxy'],
    });
    tunnels = new TunnelRegistry(nullLogger, 500);
    mkdirSync(paths.root, { recursive: true, mode: 0o700 });
    server = new CoordinatorServer({
      socketPath: paths.socket,
      log: nullLogger,
      onTunnel: (s, t) => tunnels.attach(s, t),
      handlers: createHandlers({
        paths,
        manager: nodes,
        registry,
        ssh: new FakeSsh(),
        workspaces,
        tunnels,
        startedAt: new Date(),
        clientCount: () => 0,
        shutdown: () => undefined,
      }),
    });
    await server.listen();
    nodes.start();
    const project = join(dir, 'p');
    writeProject(project, { '.vendetta/config.yaml': 'name: hello\n', 'README.md': 'hi\n' });
    await workspaces.up({ path: project }, () => undefined);
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.dispose();
    tunnels.close();
    await server.close(true);
    await nodes.close();
    if (echo.listening) echo.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function client(): Promise<CoordinatorClient> {
    const c = await CoordinatorClient.connect({ paths, autoStart: false });
    assert.ok(c);
    clients.push(c);
    return c;
  }

  it('pipes bytes both ways after the OK line, while JSON-RPC goes on beside it', async () => {
    const c = await client();
    const { socket, info } = await openTunnel(c, { alias: 'hello.local.vendetta' });
    assert.deepEqual(
      { name: info.name, node: info.node, user: info.user, folder: info.workspaceFolder },
      { name: 'hello', node: 'local', user: 'root', folder: '/workspaces/hello' },
    );
    assert.equal(info.identityFile, join(paths.keysDir, 'workspace_ed25519'));
    const payload = Buffer.alloc(1 << 20, 0x5a);
    const got = once(socket, payload.length);
    socket.write(payload);
    assert.ok((await got).equals(payload), 'a megabyte went there and back unchanged');
    assert.equal((await c.request(ListNodes))[0]?.name, 'local', 'the JSON-RPC connection still works');
    assert.equal(tunnels.activeCount, 1);
    socket.end();
    await new Promise((r) => socket.once('close', r));
  });

  it('opens by name too, and refuses unknown workspaces before any tunnel exists', async () => {
    const c = await client();
    const calls = agent.calls.length;
    const { socket } = await openTunnel(c, { name: 'hello' });
    socket.destroy();
    assert.ok(
      !agent.calls.slice(calls).includes('services/runPostAttach'),
      'an open by name (workspace exec) is no attach',
    );
    await assert.rejects(
      openTunnel(c, { alias: 'ghost.local.vendetta' }),
      (e: VendettaError) => e.code === 'WORKSPACE_NOT_FOUND',
    );
    await assert.rejects(openTunnel(c, { alias: '-oProxyCommand=x' }), (e: VendettaError) => e.code === 'INVALID_NAME');
  });

  it('starts a stopped workspace (and its services) only when asked to, and never a missing one', async () => {
    const c = await client();
    await c.request(StopWorkspaceRequest, { name: 'hello' });
    await assert.rejects(
      openTunnel(c, { alias: 'hello.local.vendetta' }),
      (e: VendettaError) =>
        e.code === 'WORKSPACE_STATE' && e.details?.state === 'stopped' && /is stopped/.test(e.message),
    );
    assert.equal(agent.workspaces.get('hello')!.state, 'stopped', 'a plain open starts nothing');
    const calls = agent.calls.length;
    const { socket, info } = await openTunnel(c, { alias: 'hello.local.vendetta', start: true });
    socket.destroy();
    assert.equal(typeof info.startedMs, 'number');
    // An open by alias is an SSH client connecting: the agent is told, for postAttach.
    assert.deepEqual(
      agent.calls.slice(calls).filter((m) => m !== 'workspaces/inspect'),
      ['workspaces/start', 'services/start', 'services/runPostAttach'],
    );
    const running = await openTunnel(c, { alias: 'hello.local.vendetta', start: true });
    running.socket.destroy();
    assert.equal(running.info.startedMs, undefined, 'a running workspace is not started again');
    agent.workspaces.delete('hello');
    await assert.rejects(
      openTunnel(c, { alias: 'hello.local.vendetta', start: true }),
      (e: VendettaError) => e.code === 'WORKSPACE_STATE' && e.details?.state === 'missing',
    );
    assert.ok(!agent.calls.slice(calls).includes('workspaces/create'));
  });

  it('follows an sshd that moved to another port (a restart), and says so when none answers', async () => {
    const c = await client();
    const moved = createServer((s) => s.end('moved\n'));
    await new Promise<void>((r) => moved.listen(0, '127.0.0.1', () => r()));
    try {
      agent.workspaces.get('hello')!.ssh!.port = (moved.address() as { port: number }).port;
      await new Promise<void>((r) => echo.close(() => r()));
      const { socket } = await openTunnel(c, { alias: 'hello.local.vendetta' });
      assert.equal((await once(socket, 6)).toString(), 'moved\n');
      socket.destroy();
    } finally {
      moved.close();
    }
    agent.workspaces.get('hello')!.ssh!.port = 1;
    await assert.rejects(
      openTunnel(c, { alias: 'hello.local.vendetta' }),
      (e: VendettaError) => e.code === 'TUNNEL_FAILED',
    );
  });

  it('answers a wrong or reused token with an error line, and an expired one too', async () => {
    const c = await client();
    const info = await c.request(TunnelOpen, { alias: 'hello.local.vendetta' });
    const first = await attachTunnel(paths, info.token);
    first.destroy();
    await assert.rejects(
      attachTunnel(paths, info.token),
      (e: VendettaError) => e.code === 'TUNNEL_FAILED' && /Unknown or expired/.test(e.message),
    );
    await assert.rejects(attachTunnel(paths, 'A'.repeat(32)), (e: VendettaError) => e.code === 'TUNNEL_FAILED');
    const late = await c.request(TunnelOpen, { alias: 'hello.local.vendetta' });
    await new Promise((r) => setTimeout(r, 700));
    await assert.rejects(attachTunnel(paths, late.token), (e: VendettaError) => /expired/.test(e.message));
  });

  it('drops a connection that starts like a tunnel but never finishes the line, or sends a malformed token', async () => {
    for (const bytes of [`${TUNNEL_PREAMBLE}bad token with spaces\n`, 'VENDETTA-TUNNEL '.padEnd(400, 'x')]) {
      const s = connect(paths.socket);
      s.on('error', () => undefined);
      s.write(bytes);
      await new Promise((r) => s.once('close', r));
    }
    const c = await client();
    assert.equal((await c.request(ListNodes)).length, 1, 'the server still serves');
  });

  it('closes open tunnels when the coordinator stops', async () => {
    const c = await client();
    const { socket } = await openTunnel(c, { alias: 'hello.local.vendetta' });
    socket.resume();
    const closed = new Promise((r) => socket.once('close', r));
    c.dispose();
    clients.length = 0;
    await server.close(true);
    await closed;
  });
});
