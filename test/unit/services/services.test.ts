import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinatorClient } from '../../../coordinator/cli/client';
import { createHandlers } from '../../../coordinator/daemon/handlers';
import { CoordinatorServer } from '../../../coordinator/daemon/server';
import { VendettaError } from '../../../coordinator/errors';
import { homePaths, type HomePaths } from '../../../coordinator/home';
import { nullLogger } from '../../../coordinator/log';
import { NodeManager } from '../../../coordinator/nodes/nodeManager';
import { NodeRegistry } from '../../../coordinator/nodes/registry';
import {
  ForwardPortRequest,
  ListForwardsRequest,
  ListPortsRequest,
  ListServicesRequest,
  LogLinesNotification,
  LogsRequest,
  RemoveWorkspaceRequest,
  StartServicesRequest,
  StartWorkspaceRequest,
  StopServicesRequest,
  UnfollowLogsRequest,
  UnforwardPortRequest,
  type ForwardRefusal,
  WorkspaceStatusRequest,
  WorkspaceUp,
  type ServiceLogLine,
  type WorkspaceServices,
} from '../../../coordinator/protocol';
import { ServicesManager } from '../../../coordinator/services/manager';
import { WorkspaceManager } from '../../../coordinator/workspaces/manager';
import { FakeAgentClient, FakeSsh } from '../nodes/fakes';
import { agentError, FakeWorkspaceAgent, writeProject } from '../workspaces/fakeAgent';

const CONFIG = `name: hello
services:
  db: { command: node db.mjs, port: 7070, healthcheck: { tcp: 7070 } }
  web: { command: [node, web.mjs], port: 8080, depends_on: [db], restart: always }
forwardPorts: [8080]
`;

/** A "service" that answers every connection with its name, then echoes. */
function serviceServer(name: string): Promise<Server> {
  const s = createServer((c) => {
    c.write(`${name}:`);
    c.pipe(c);
  });
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}

const portOf = (s: Server) => (s.address() as { port: number }).port;

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect({ host: '127.0.0.1', port });
    let got = '';
    c.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.endsWith(text)) {
        c.end();
        resolve(got);
      }
    });
    c.once('connect', () => c.write(text));
    c.once('error', reject);
    c.once('close', () => resolve(got));
  });
}

const waitFor = async (cond: () => boolean, what: string, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('services, ports and logs through the coordinator', () => {
  let dir: string;
  let paths: HomePaths;
  let server: CoordinatorServer;
  let agent: FakeWorkspaceAgent;
  let services: ServicesManager;
  let workspaces: WorkspaceManager;
  let project: string;
  let db: Server;
  let web: Server;
  const clients: CoordinatorClient[] = [];
  const client = async () => {
    const c = await CoordinatorClient.connect({ paths, autoStart: false });
    assert.ok(c);
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-svc-'));
    paths = homePaths(join(dir, 'home'));
    db = await serviceServer('db');
    web = await serviceServer('web');
    agent = new FakeWorkspaceAgent('local', join(dir, 'nodes'));
    agent.nodePorts.set('db', portOf(db));
    agent.nodePorts.set('web', portOf(web));
    const registry = new NodeRegistry(paths, nullLogger);
    registry.reload();
    const nodes = new NodeManager({
      paths,
      log: nullLogger,
      registry,
      ssh: new FakeSsh(),
      agentBundle: '/x',
      createLocalClient: () => new FakeAgentClient('local'),
    });
    workspaces = new WorkspaceManager({
      paths,
      log: nullLogger,
      nodes: { agentClient: () => agent },
      proxyCommand: ['/n', '/v', 'ssh-proxy'],
    });
    services = new ServicesManager(workspaces, nullLogger);
    mkdirSync(paths.root, { recursive: true, mode: 0o700 });
    server = new CoordinatorServer({
      socketPath: paths.socket,
      log: nullLogger,
      handlers: createHandlers({
        paths,
        manager: nodes,
        registry,
        ssh: new FakeSsh(),
        workspaces,
        services,
        startedAt: new Date(),
        clientCount: () => 0,
        shutdown: () => undefined,
      }),
    });
    await server.listen();
    nodes.start();
    project = join(dir, 'hello');
    writeProject(project, { '.vendetta/config.yaml': CONFIG, 'db.mjs': '', 'web.mjs': '' });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.dispose();
    services.close();
    await server.close(true);
    db.close();
    web.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('up starts the services after the code landed and waits for them; a second up leaves running ones alone', async () => {
    const c = await client();
    const steps: string[] = [];
    c.onProgress('t1', (p) => steps.push(`${p.step}/${p.total} ${p.message}`));
    const r = await c.request(WorkspaceUp, { path: project, progressToken: 't1' });
    assert.deepEqual(
      r.services?.map((s) => [s.name, s.state]),
      [
        ['db', 'healthy'],
        ['web', 'healthy'],
      ],
    );
    assert.ok(
      agent.calls.indexOf('services/start') > agent.calls.indexOf('workspaces/manifest'),
      `services start after the sync: ${agent.calls.join(' ')}`,
    );
    assert.deepEqual(
      agent.workspaces.get('hello')!.spec.services?.map((s) => [s.name, s.dependsOn, s.port, s.restart]),
      [
        ['db', [], 7070, 'on-failure'],
        ['web', ['db'], 8080, 'always'],
      ],
    );
    await waitFor(() => steps.some((s) => s.startsWith('6/6 Services: db healthy, web healthy')), 'the services step');
    assert.ok(steps.includes('1/6 Reading the workspace config'), steps.join('\n'));

    agent.calls.length = 0;
    const again = await c.request(WorkspaceUp, { path: project });
    assert.equal(again.existed, true);
    assert.ok(!agent.calls.includes('services/start'), `nothing restarted: ${agent.calls.join(' ')}`);
    assert.deepEqual(
      again.services?.map((s) => s.state),
      ['healthy', 'healthy'],
    );

    agent.services.get('hello')![1]!.state = 'crashloop';
    agent.calls.length = 0;
    const third = await c.request(WorkspaceUp, { path: project });
    assert.deepEqual(
      agent.calls.filter((m) => m === 'services/start'),
      ['services/start'],
      'only the dead one is started',
    );
    assert.deepEqual(
      third.services?.map((s) => s.state),
      ['healthy', 'healthy'],
    );
  });

  it('up --forward forwards forwardPorts; ports lists every service port, the forwarded one with its local URL', async () => {
    const c = await client();
    const r = await c.request(WorkspaceUp, { path: project, forward: true });
    assert.equal(r.forwards?.length, 1);
    const f = r.forwards![0]!;
    assert.deepEqual([f.workspace, f.node, f.port, f.nodePort], ['hello', 'local', 8080, portOf(web)]);
    assert.equal(f.url, `http://127.0.0.1:${f.localPort}`);
    assert.equal(await roundTrip(f.localPort, 'ping'), 'web:ping');
    const rows = await c.request(ListPortsRequest, { name: 'hello' });
    assert.deepEqual(
      rows.map((p) => [p.service, p.port, p.nodePort, p.health, p.localPort]),
      [
        ['db', 7070, portOf(db), 'healthy', undefined],
        ['web', 8080, portOf(web), 'healthy', f.localPort],
      ],
    );
    assert.equal(rows[0]!.url, `http://127.0.0.1:${portOf(db)}`);
    // The same port again: the same forward.
    assert.deepEqual(await c.request(ForwardPortRequest, { name: 'hello', port: 8080 }), f);
    await assert.rejects(
      c.request(ForwardPortRequest, { name: 'hello', port: 8080, localPort: f.localPort === 1 ? 2 : 1 }),
      (e: VendettaError) => e.code === 'TUNNEL_FAILED' && /already forwarded/.test(e.message),
    );
    // rm ends it.
    await c.request(RemoveWorkspaceRequest, { name: 'hello', force: true });
    assert.deepEqual(await c.request(ListForwardsRequest, {}), []);
    await assert.rejects(roundTrip(f.localPort, 'x'), /ECONNREFUSED/, 'nothing listens there any more');
  });

  it('a forward a client holds ends when it disconnects; a forward outlives a link that failed for one connection', async () => {
    const c = await client();
    await c.request(WorkspaceUp, { path: project });
    const held = await c.request(ForwardPortRequest, { name: 'hello', port: 7070, untilDisconnect: true });
    assert.equal(await roundTrip(held.localPort, 'a'), 'db:a');

    // The node link drops for one connection (the pool reconnects on the next).
    const open = agent.openTcp.bind(agent);
    let failures = 1;
    agent.openTcp = (h, p) =>
      failures-- > 0
        ? Promise.reject(new VendettaError('NODE_UNREACHABLE', 'link lost', { hint: 'wait' }))
        : open(h, p);
    assert.equal(await roundTrip(held.localPort, 'b'), '', 'the connection during the outage is closed');
    assert.equal(await roundTrip(held.localPort, 'c'), 'db:c', 'the next one works');

    // The service moved to another node port: each connection asks the node where it is now.
    const db2 = await serviceServer('db2');
    try {
      agent.services.get('hello')![0]!.nodePort = portOf(db2);
      db.close();
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await roundTrip(held.localPort, 'd'), 'db2:d');
      assert.equal((await c.request(ListForwardsRequest, {}))[0]?.nodePort, portOf(db2));
    } finally {
      db2.close();
    }

    const other = await client();
    assert.equal((await other.request(ListForwardsRequest, {})).length, 1);
    c.dispose();
    await waitFor(() => services.forwards.list().length === 0, 'the held forward to end');
    assert.equal(
      await other.request(UnforwardPortRequest, { workspace: 'hello', port: 7070 }).then((r) => r.stopped),
      false,
    );
  });

  it("a forward refuses connections while its workspace is stopped (the node port may be another process's), saying why to listeners, and carries them again once it runs", async () => {
    const c = await client();
    await c.request(WorkspaceUp, { path: project });
    const f = await c.request(ForwardPortRequest, { name: 'hello', port: 8080, untilDisconnect: true });
    const refusals: ForwardRefusal[] = [];
    services.forwards.onRefused((r) => refusals.push(r));
    assert.equal(await roundTrip(f.localPort, 'a'), 'web:a');
    agent.workspaces.get('hello')!.state = 'stopped';
    // Another process holds the node port now: not a byte of the laptop's may reach it.
    let received = '';
    web.on('connection', (sock: Socket) =>
      sock.on('data', (d: Buffer) => (received += d.toString())).on('error', () => undefined),
    );
    assert.equal(await roundTrip(f.localPort, 'secret'), '', 'the connection is closed, nothing carried either way');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(received, '', 'nothing reached the node port');
    await waitFor(() => refusals.length === 1, 'the refusal notification');
    assert.deepEqual(
      [refusals[0]!.workspace, refusals[0]!.port, refusals[0]!.localPort, refusals[0]!.error.code],
      ['hello', 8080, f.localPort, 'TUNNEL_FAILED'],
    );
    assert.match(
      refusals[0]!.error.message,
      new RegExp(`^Refused a connection to http://127\\.0\\.0\\.1:${f.localPort}: Workspace hello is not running`),
    );
    assert.match(refusals[0]!.error.hint ?? '', /workspace start hello/);
    agent.workspaces.get('hello')!.state = 'running';
    assert.equal(await roundTrip(f.localPort, 'b'), 'web:b');
    // A link that is down is not a refusal: nothing is said.
    const request = agent.request.bind(agent);
    agent.request = ((type: { method: string }, params: unknown) =>
      type.method === 'ports/resolveNodePort'
        ? Promise.reject(new VendettaError('NODE_UNREACHABLE', 'link lost'))
        : request(type as never, params as never)) as typeof agent.request;
    assert.equal(await roundTrip(f.localPort, 'c'), '');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(refusals.length, 1);
  });

  it('a port a dev server opened is listed as detected, forwarded at the workspace address the node gives, and its change is relayed', async () => {
    const c = await client();
    await c.request(WorkspaceUp, { path: project });
    // The dev server listens at the "workspace's address" (another loopback address than the node ports').
    const dev = createServer((s) => s.end('dev-server'));
    await new Promise<void>((r) => dev.listen(0, '127.0.0.2', r));
    try {
      const port = portOf(dev);
      agent.detected.set('hello', [
        { port, loopbackOnly: false },
        { port: 7070, loopbackOnly: false },
      ]);
      agent.addresses.set('hello', '127.0.0.2');
      const heard: Array<{ name: string; node: string }> = [];
      services.onPortsDidChange((w) => heard.push(w));
      agent.emit('ports/didChange', { workspace: 'hello', running: true, ports: agent.detected.get('hello') });
      agent.emit('ports/didChange', { workspace: 'hello', running: 'yes', ports: [] });
      assert.deepEqual(heard, [{ name: 'hello', node: 'local' }], 'one change relayed, the malformed one dropped');
      const rows = await c.request(ListPortsRequest, { name: 'hello' });
      assert.deepEqual(
        rows.map((r) => [r.port, r.source, r.listening]),
        [
          [7070, 'service', true],
          [8080, 'service', false],
          [port, 'detected', true],
        ],
      );
      const f = await c.request(ForwardPortRequest, { name: 'hello', port, untilDisconnect: true });
      assert.equal(await roundTrip(f.localPort, 'x'), 'dev-server');
      const after = await c.request(ListPortsRequest, { name: 'hello' });
      assert.equal(after.find((r) => r.port === port)?.localPort, f.localPort);
      // A provider that gives no address: the forward is refused, naming the service ports.
      agent.addresses.delete('hello');
      agent.detected
        .get('hello')!
        .push({ port: port + 1, loopbackOnly: false }, { port: port + 2, loopbackOnly: true });
      await assert.rejects(
        c.request(ForwardPortRequest, { name: 'hello', port: port + 1 }),
        (e: VendettaError) =>
          e.code === 'INVALID_PARAMS' &&
          /no node port for \d+\. Its service ports: 7070 \(db\), 8080 \(web\)/.test(e.hint ?? ''),
      );
      await assert.rejects(c.request(ForwardPortRequest, { name: 'hello', port: port + 2 }), (e: VendettaError) =>
        /listens on 127\.0\.0\.1 only inside it/.test(e.hint ?? ''),
      );
      await assert.rejects(c.request(ForwardPortRequest, { name: 'hello', port: port + 3 }), (e: VendettaError) =>
        /^Nothing listens on port \d+ inside it either\. Its service ports/.test(e.hint ?? ''),
      );
    } finally {
      dev.close();
    }
  });

  it('up --forward forwards what it can: a forwardPorts entry nothing reaches is said in the progress, the up still succeeds', async () => {
    const c = await client();
    writeProject(project, {
      '.vendetta/config.yaml': CONFIG.replace('forwardPorts: [8080]', 'forwardPorts: [8080, 9999]'),
    });
    const steps: string[] = [];
    c.onProgress('t2', (p) => steps.push(p.message));
    const r = await c.request(WorkspaceUp, { path: project, forward: true, progressToken: 't2' });
    assert.deepEqual(
      r.forwards?.map((f) => f.port),
      [8080],
    );
    assert.ok(
      steps.some((m) =>
        /^Port 9999 is not forwarded: No service of hello listens on port 9999 \(no node port for 9999\./.test(m),
      ),
      steps.join('\n'),
    );
  });

  it('a forward of a port no service has, or of one not published, says which ports there are', async () => {
    const c = await client();
    await c.request(WorkspaceUp, { path: project });
    await assert.rejects(
      c.request(ForwardPortRequest, { name: 'hello', port: 9999 }),
      (e: VendettaError) => e.code === 'INVALID_PARAMS' && /7070 \(db\), 8080 \(web\)/.test(e.hint ?? ''),
    );
    await c.request(StopServicesRequest, { name: 'hello', service: 'web' });
    delete agent.services.get('hello')![1]!.nodePort;
    await assert.rejects(
      c.request(ForwardPortRequest, { name: 'hello', port: 8080 }),
      (e: VendettaError) => e.code === 'WORKSPACE_STATE' && /not published/.test(e.message),
    );
    await assert.rejects(
      c.request(ForwardPortRequest, { name: 'hello', port: 70000 } as never),
      (e: VendettaError) => e.code === 'INVALID_PARAMS',
    );
    await assert.rejects(
      c.request(ForwardPortRequest, { name: 'hello', port: 7070, bogus: 1 } as never),
      (e: VendettaError) => e.code === 'INVALID_PARAMS',
    );
  });

  it('services list/start/stop go to the node; status shows them; workspace start starts them again', async () => {
    const c = await client();
    await c.request(WorkspaceUp, { path: project });
    const stopped = await c.request(StopServicesRequest, { name: 'hello', service: 'db' });
    assert.deepEqual(
      stopped.services.map((s) => s.state),
      ['stopped', 'healthy'],
    );
    const listed = await c.request(ListServicesRequest, { name: 'hello' });
    assert.deepEqual([listed.name, listed.node], ['hello', 'local']);
    const status = await c.request(WorkspaceStatusRequest, { name: 'hello' });
    assert.deepEqual(
      status.services?.map((s) => s.state),
      ['stopped', 'healthy'],
    );
    agent.calls.length = 0;
    await c.request(StartWorkspaceRequest, { name: 'hello' });
    assert.deepEqual(agent.calls, ['workspaces/start', 'services/start']);
    assert.deepEqual(
      (await c.request(StartServicesRequest, { name: 'hello' })).services.map((s) => s.state),
      ['healthy', 'healthy'],
    );
    await assert.rejects(
      c.request(StartServicesRequest, { name: 'hello', service: 'Bad Name' }),
      (e: VendettaError) => e.code === 'INVALID_PARAMS',
    );
    // An agent without services: the status still answers, without them.
    agent.failNext.set('services/list', agentError('local', 'METHOD_NOT_FOUND', 'no such method'));
    assert.equal((await c.request(WorkspaceStatusRequest, { name: 'hello' })).services, undefined);
  });

  it('service changes on the node reach listeners with the node name', async () => {
    const c = await client();
    await c.request(WorkspaceUp, { path: project });
    const seen: WorkspaceServices[] = [];
    services.onDidChange((w) => seen.push(w));
    await c.request(StopServicesRequest, { name: 'hello', service: 'web' });
    assert.deepEqual(
      seen.map((w) => [w.name, w.node, w.services.map((s) => s.state).join(',')]),
      [['hello', 'local', 'healthy,stopped']],
    );
    agent.emit('services/didChange', { workspace: 'hello', services: 'not a list' });
    assert.equal(seen.length, 1, 'a malformed change is dropped');
  });

  it('logs: tail and since pass through; -f relays new lines to the asking client alone until it unfollows or leaves', async () => {
    const c = await client();
    await c.request(WorkspaceUp, { path: project });
    const line = (service: string, text: string, time = new Date().toISOString()): ServiceLogLine => ({
      time,
      service,
      stream: 'stdout',
      line: text,
    });
    agent.logLines.push(line('db', 'old', '2000-01-01T00:00:00.000Z'), line('db', 'one'), line('web', 'two'));
    assert.deepEqual(
      (await c.request(LogsRequest, { name: 'hello', tail: 1 })).lines.map((l) => l.line),
      ['two'],
    );
    assert.deepEqual(
      (await c.request(LogsRequest, { name: 'hello', since: '5m' })).lines.map((l) => l.line),
      ['one', 'two'],
    );
    assert.deepEqual(
      (await c.request(LogsRequest, { name: 'hello', service: 'db' })).lines.map((l) => l.line),
      ['old', 'one'],
    );
    await assert.rejects(
      c.request(LogsRequest, { name: 'hello', since: 'yesterday' }),
      (e: VendettaError) => e.code === 'INVALID_PARAMS',
    );
    await assert.rejects(
      c.request(LogsRequest, { name: 'hello', follow: true }),
      (e: VendettaError) => e.code === 'INVALID_PARAMS' && /followToken/.test(e.message),
    );

    const got: string[] = [];
    const otherGot: string[] = [];
    c.onNotification(LogLinesNotification, (p) => got.push(...p.lines.map((l) => `${p.followToken}:${l.line}`)));
    const other = await client();
    other.onNotification(LogLinesNotification, (p) => otherGot.push(...p.lines.map((l) => l.line)));
    const first = await c.request(LogsRequest, { name: 'hello', follow: true, followToken: 'mine', tail: 0 });
    assert.deepEqual(first.lines, []);
    assert.equal(agent.follows.size, 1);
    const agentToken = [...agent.follows][0]!;
    assert.notEqual(agentToken, 'mine', "the node sees the coordinator's own token");
    agent.emit('services/didLog', { followToken: agentToken, lines: [line('web', 'three')] });
    agent.emit('services/didLog', { followToken: 'someone-else', lines: [line('web', 'nope')] });
    await waitFor(() => got.length === 1, 'the relayed line');
    assert.deepEqual(got, ['mine:three']);
    assert.deepEqual(otherGot, []);
    assert.deepEqual(await c.request(UnfollowLogsRequest, { followToken: 'mine' }), { stopped: true });
    assert.equal(agent.follows.size, 0);
    assert.deepEqual(await c.request(UnfollowLogsRequest, { followToken: 'mine' }), { stopped: false });

    await other.request(LogsRequest, { name: 'hello', follow: true, followToken: 'theirs' });
    assert.equal(services.follows.size, 1);
    other.dispose();
    await waitFor(() => services.follows.size === 0 && agent.follows.size === 0, 'the follow to end with its client');
  });
});
