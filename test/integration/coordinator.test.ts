import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { CoordinatorStatus, NodeStatus, NodeSummary, TestNodeResult } from '../../coordinator/protocol';
import { processRunning as pidAlive } from '../../coordinator/daemon/instanceLock';
import { createCliHome, median, waitUntil, type CliHome } from './coordinatorHarness';

const SUMMARY_KEYS = [
  'agentVersion',
  'host',
  'lastSeen',
  'latencyMs',
  'name',
  'port',
  'providers',
  'status',
  'transport',
  'user',
];

function frame(body: string): string {
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

describe('the coordinator, through the built CLI', function () {
  let h: CliHome;

  before(() => {
    h = createCliHome();
  });
  after(async () => {
    await h?.cleanup();
  });

  it('is started by the first CLI call, detached, behind a 0600 socket in a 0700 home', async () => {
    assert.equal(existsSync(h.socket), false);
    const r = await h.run(['node', 'list', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const nodes = JSON.parse(r.stdout) as NodeSummary[];
    assert.deepEqual(
      nodes.map((n) => n.name),
      ['local'],
    );
    assert.deepEqual(Object.keys(nodes[0]!).sort(), SUMMARY_KEYS, 'exactly a NodeSummary');
    assert.equal(statSync(h.socket).mode & 0o777, 0o600);
    assert.ok(statSync(h.socket).isSocket());
    assert.equal(statSync(h.home).mode & 0o777, 0o700);
    const pid = h.coordinatorPid();
    assert.ok(pid && pidAlive(pid), 'the coordinator outlives the CLI');
    const log = readFileSync(`${h.home}/logs/coordinator.log`, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    assert.ok(log.some((l) => l.msg === 'coordinator ready'));
    assert.equal(nodes[0]?.status, 'unknown', 'listing does not start the local agent');
    assert.equal(h.localAgentPid(), undefined);
  });

  it('refuses a second coordinator on the same home', async () => {
    const pid = h.coordinatorPid();
    const r = await h.run(['coordinator', 'run']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`error: A coordinator is already running for .* \\(pid ${pid}\\)`));
    assert.match(r.stderr, /hint: .*coordinator stop/);
    assert.equal(h.coordinatorPid(), pid);
    assert.equal((await h.run(['node', 'list'])).code, 0, 'the first one still serves');
  });

  it('reports the local node online with its providers and system figures', async () => {
    const [local] = await h.json<NodeStatus[]>(['node', 'status', 'local']);
    assert.equal(local?.status, 'online', JSON.stringify(local?.error));
    assert.equal(local?.transport, 'local');
    assert.ok(local?.agentVersion);
    assert.ok(local?.system && local.system.cpus > 0 && local.system.memoryTotalBytes > 0 && local.system.hostname);
    for (const p of ['docker', 'lxc', 'qemu'] as const) assert.equal(typeof local?.providers?.[p].available, 'boolean');
    assert.equal(typeof local?.providers?.qemu.kvm, 'boolean');
    const human = await h.run(['node', 'status']);
    assert.equal(human.code, 0);
    assert.match(human.stdout, /^NAME\s+STATUS\s+LATENCY\s+OS/m);
    assert.match(human.stdout, /^local\s+online\s+\d/m);
    const list = await h.json<NodeSummary[]>(['node', 'list']);
    assert.equal(list[0]?.status, 'online');
    assert.ok(list[0]?.providers, 'list answers from what status learned');
  });

  it('diagnoses the local node step by step', async () => {
    const r = await h.run(['node', 'test', 'local', '--json']);
    const result = JSON.parse(r.stdout) as TestNodeResult;
    const names = result.steps.map((s) => s.name);
    assert.deepEqual(names, [
      'Node.js runtime',
      'agent bundle',
      'agent',
      'provider docker',
      'provider lxc',
      'provider qemu',
    ]);
    assert.ok(result.steps.slice(0, 3).every((s) => s.ok));
    for (const s of result.steps.filter((x) => !x.ok)) assert.ok(s.hint, `${s.name} failed without a hint`);
    assert.equal(r.code, result.ok ? 0 : 1);
    const human = await h.run(['node', 'test', 'local']);
    assert.match(human.stdout, /^✔ agent\s+vendetta-agent /m);
    for (const p of ['docker', 'lxc', 'qemu']) assert.match(human.stdout, new RegExp(`^[✔–] provider ${p} `, 'm'));
    assert.match(human.stdout, /local: (ok|FAILED), \d of 6 checks passed/);
  });

  it('restarts a killed local agent daemon at the next request', async () => {
    const before = h.localAgentPid();
    assert.ok(before && pidAlive(before));
    process.kill(before, 'SIGKILL');
    await waitUntil(() => !pidAlive(before), 5000, 'the agent daemon to die');
    const [local] = await h.json<NodeStatus[]>(['node', 'status', 'local']);
    assert.equal(local?.status, 'online', JSON.stringify(local?.error));
    const after = h.localAgentPid();
    assert.ok(after && after !== before && pidAlive(after), 'a new daemon');
  });

  it('refuses hostile names and hosts with exit 2, a clear error, and writes nothing', async () => {
    const cases: string[][] = [
      ['node', 'add', '../x', '--host', 'h1'],
      ['node', 'add', 'a;b', '--host', 'h1'],
      ['node', 'add', '-oProxyCommand=x', '--host', 'h1'],
      ['node', 'add', '--host', 'h1', '--', '-oProxyCommand=x'],
      ['node', 'add', '', '--host', 'h1'],
      ['node', 'add', 'a'.repeat(300), '--host', 'h1'],
      ['node', 'add', 'ok', '--host', '-oProxyCommand=touch /tmp/pwned'],
      ['node', 'add', 'ok', '--host=-oProxyCommand=touch /tmp/pwned'],
      ['node', 'add', 'ok', '--host', 'host;reboot'],
      ['node', 'add', 'ok', '--host', 'h1', '--port', '99999'],
      ['node', 'add', 'ok', '--host', 'h1', '--user', '-oProxyCommand=x'],
      ['node', 'test', '../x'],
      ['node', 'remove', 'a;b'],
    ];
    const results = await Promise.all(cases.map((args) => h.run(args)));
    results.forEach((r, i) => {
      const what = JSON.stringify(cases[i]);
      assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`);
      assert.match(r.stderr, /^error: /m, what);
      assert.equal(r.stdout, '', what);
    });
    assert.match(results[0]!.stderr, /error: Invalid node name: "\.\.\/x"\nhint: A node name is/);
    assert.match(results[6]!.stderr, /error: Invalid host: "-oProxyCommand=touch \/tmp\/pwned"\nhint: /);
    assert.equal(existsSync(h.nodesFile), false, 'nodes.yaml untouched');
    assert.equal(existsSync(`${h.home}/known_hosts`), false);
    assert.equal(existsSync('/tmp/pwned'), false);
  });

  it('names an unknown node clearly', async () => {
    for (const args of [
      ['node', 'test', 'ghost'],
      ['node', 'status', 'ghost'],
      ['node', 'remove', 'ghost'],
    ]) {
      const r = await h.run(args);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /^error: There is no node named ghost\nhint: .*vendetta node list/m);
    }
    const j = await h.run(['node', 'test', 'ghost', '--json']);
    assert.equal((JSON.parse(j.stdout) as { error: { code: string } }).error.code, 'NODE_NOT_FOUND');
  });

  it('answers garbage and truncated JSON-RPC with an error, drops that client and keeps serving', async function () {
    this.timeout(30_000);
    const pid = h.coordinatorPid();
    const garbage = await h.rawSocket();
    const truncated = await h.rawSocket();
    garbage.socket.write('\u0000\u00ff garbage\r\n\r\n{{{');
    truncated.socket.write('Content-Length: 1000\r\n\r\n{"jsonrpc":"2.0","id":1,"method":"nodes/li');
    const meanwhile = await h.run(['node', 'list', '--json']);
    assert.equal(meanwhile.code, 0, 'served while a client hangs half-way through a message');
    await garbage.closed;
    await truncated.closed;
    for (const c of [garbage, truncated]) {
      const body = c.received().replace(/^Content-Length: \d+\r\n\r\n/, '');
      const reply = JSON.parse(body) as { id: null; error: { message: string; data: { code: string; hint: string } } };
      assert.equal(reply.id, null);
      assert.equal(reply.error.data.code, 'INVALID_PARAMS');
      assert.match(reply.error.message, /JSON-RPC message/);
    }
    const notRpc = await h.rawSocket();
    notRpc.socket.write(frame('{"id": 3, "hello": "world"}'));
    await waitUntil(() => notRpc.received().length > 0, 5000, 'a reply to a non-JSON-RPC message');
    assert.match(notRpc.received(), /"id":3.*INVALID_PARAMS/);
    notRpc.socket.destroy();
    assert.equal(h.coordinatorPid(), pid, 'the same coordinator');
    assert.ok(pid && pidAlive(pid));
    assert.equal((await h.run(['node', 'list'])).code, 0);
  });

  it('picks up a hand edit of nodes.yaml, and reports a bad one with line:col while keeping the last good', async function () {
    this.timeout(30_000);
    mkdirSync(h.home, { recursive: true, mode: 0o700 });
    writeFileSync(h.nodesFile, 'nodes:\n  - name: hand-1\n    host: 127.0.0.1\n    port: 9\n    user: nobody\n');
    await waitUntil(
      async () => (await h.json<NodeSummary[]>(['node', 'list'])).some((n) => n.name === 'hand-1'),
      5000,
      'hand-1 in node list',
    );
    writeFileSync(
      h.nodesFile,
      'nodes:\n  - name: hand-1\n    host: 127.0.0.1\n    port: 9\n  - name: Hand_2\n    host: x\n',
    );
    await waitUntil(
      async () => (await h.json<CoordinatorStatus>(['coordinator', 'status'])).registryError !== undefined,
      5000,
      'registryError',
    );
    const status = await h.json<CoordinatorStatus>(['coordinator', 'status']);
    assert.equal(status.registryError?.file, h.nodesFile);
    assert.equal(status.registryError?.line, 5);
    assert.ok((status.registryError?.col ?? 0) > 0);
    const list = await h.run(['node', 'list']);
    assert.equal(list.code, 0);
    assert.match(list.stdout, /^hand-1\s+ssh\s+nobody@127\.0\.0\.1:9/m, 'the last good registry is in use');
    assert.match(
      list.stderr,
      new RegExp(`^warning: ${h.nodesFile.replace(/[.]/g, '\\.')}:5:\\d+: .*last good registry`, 'm'),
    );
    const log = readFileSync(`${h.home}/logs/coordinator.log`, 'utf8');
    assert.match(log, new RegExp(`nodes\\.yaml:5:\\d+`));
    const add = await h.run(['node', 'add', 'blocked', '--host', '127.0.0.1', '--accept-new-host-key']);
    assert.equal(add.code, 1);
    assert.match(add.stderr, /error: .*nodes\.yaml:5:\d+/);
    writeFileSync(h.nodesFile, '');
    await waitUntil(
      async () => (await h.json<NodeSummary[]>(['node', 'list'])).length === 1,
      5000,
      'the registry emptied',
    );
    assert.equal((await h.json<CoordinatorStatus>(['coordinator', 'status'])).registryError, undefined);
  });

  it('answers node list fast when warm', async () => {
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await h.run(['node', 'list', '--json']);
      assert.equal(r.code, 0);
      times.push(r.ms);
    }
    console.log(`      warm \`vendetta node list\`: median ${median(times)} ms over 10 runs (process start included)`);
    assert.ok(median(times) < 2000);
  });

  it("replaces the stale socket and lock of a kill -9'd coordinator on the next call", async () => {
    const old = h.coordinatorPid()!;
    process.kill(old, 'SIGKILL');
    await waitUntil(() => !pidAlive(old), 5000, 'the coordinator to die');
    assert.ok(existsSync(h.socket), 'a stale socket is left behind');
    const r = await h.run(['node', 'list', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const pid = h.coordinatorPid();
    assert.ok(pid && pid !== old && pidAlive(pid));
    assert.equal(statSync(h.socket).mode & 0o777, 0o600);
  });

  it('starts only one coordinator when several CLIs race to auto-start it', async () => {
    assert.equal((await h.run(['coordinator', 'stop'])).code, 0);
    const results = await Promise.all(Array.from({ length: 4 }, () => h.run(['node', 'list', '--json'])));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const pid = h.coordinatorPid();
    const status = await h.json<{ pid: number }>(['coordinator', 'status']);
    assert.equal(status.pid, pid);
  });

  it('stops on `coordinator stop`, removing socket and lock; status and start say what they did', async () => {
    const pid = h.coordinatorPid()!;
    const stop = await h.json<{ stopped: boolean; pid: number }>(['coordinator', 'stop']);
    assert.deepEqual(stop, { stopped: true, pid });
    assert.equal(pidAlive(pid), false);
    assert.equal(existsSync(h.socket), false);
    assert.equal(existsSync(`${h.home}/coordinator.lock`), false);
    assert.deepEqual(await h.json<{ running: boolean }>(['coordinator', 'status']), { running: false, home: h.home });
    assert.match((await h.run(['coordinator', 'stop'])).stdout, /not running/);
    const start = await h.json<{ started: boolean; pid: number }>(['coordinator', 'start']);
    assert.equal(start.started, true);
    assert.equal((await h.json<{ started: boolean }>(['coordinator', 'start'])).started, false);
    const human = await h.run(['coordinator', 'status']);
    assert.match(human.stdout, new RegExp(`coordinator is running\\n\\s+pid\\s+${start.pid}`));
  });

  it('shuts down cleanly on SIGTERM', async () => {
    const pid = h.coordinatorPid() ?? (await h.json<{ pid: number }>(['coordinator', 'start'])).pid;
    process.kill(pid, 'SIGTERM');
    await waitUntil(() => !pidAlive(pid), 5000, 'the coordinator to exit');
    assert.equal(existsSync(h.socket), false);
    assert.equal(existsSync(`${h.home}/coordinator.lock`), false);
    const log = readFileSync(`${h.home}/logs/coordinator.log`, 'utf8');
    assert.match(log, /"msg":"coordinator stopped","reason":"SIGTERM"/);
  });
});
