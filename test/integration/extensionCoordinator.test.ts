import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { ListNodes } from '../../coordinator/protocol';
import { CoordinatorClient, type ConnectionState } from '../../extension/client/coordinatorClient';
import { homeFiles } from '../../extension/client/home';
import { findNodeRuntime } from '../../extension/client/runtime';
import { createCliHome, waitUntil, type CliHome } from './coordinatorHarness';

describe('the VS Code extension and the real coordinator', () => {
  let h: CliHome;
  let client: CoordinatorClient | undefined;
  const states: ConnectionState['kind'][] = [];
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

  before(() => {
    h = createCliHome();
  });

  after(async () => {
    client?.dispose();
    await h.cleanup();
  });

  it('starts the bundled coordinator when nobody answers, with a node found on PATH, and lists the nodes', async () => {
    client = new CoordinatorClient({
      home: () => homeFiles(h.home),
      cliPath: join(h.dir, 'bin', 'vendetta.js'),
      clientInfo: { name: 'vscode-test', version: '0.0.0' },
      // PATH holds only the folder of this test's node: what a machine with just that node has.
      findRuntime: () => findNodeRuntime({ pathEnv: dirname(process.execPath), execPath: '/nonexistent/vscode' }),
      log: quiet,
      reconnectDelaysMs: [100, 200, 400, 800, 1600, 3200],
    });
    client.onDidChangeState((s) => states.push(s.kind));
    const t0 = Date.now();
    const nodes = await client.request(ListNodes);
    const ms = Date.now() - t0;
    assert.ok(
      nodes.some((n) => n.name === 'local' && n.transport === 'local'),
      JSON.stringify(nodes),
    );
    assert.deepEqual(states.slice(0, 3), ['connecting', 'starting', 'connected']);
    const pid = h.coordinatorPid();
    assert.ok(pid, 'the coordinator holds its lock');
    assert.equal(client.state.kind === 'connected' && client.state.info.pid, pid);
    console.log(`      coordinator started and answered in ${ms} ms`);
  });

  it('reconnects when the coordinator is restarted', async () => {
    const c = client!;
    const before = c.state.kind === 'connected' ? c.state.info.pid : undefined;
    const stop = await h.run(['coordinator', 'stop']);
    assert.equal(stop.code, 0, stop.stderr);
    await waitUntil(() => c.state.kind === 'reconnecting', 10_000, 'the client to notice');
    const start = await h.run(['coordinator', 'start']);
    assert.equal(start.code, 0, start.stderr);
    await waitUntil(() => c.state.kind === 'connected', 15_000, 'the client to reconnect');
    const after = c.state.kind === 'connected' ? c.state.info.pid : undefined;
    assert.notEqual(after, before);
    assert.ok((await c.request(ListNodes)).some((n) => n.name === 'local'));
  });
});
