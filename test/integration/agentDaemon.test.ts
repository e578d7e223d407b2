import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { ResponseError } from 'vscode-jsonrpc';
import {
  AGENT_PROTOCOL_VERSION,
  AgentErrorCodes,
  InspectNode,
  Ping,
  Shutdown,
  type AgentErrorData,
} from '../../agent/protocol';
import { AGENT_JS, agentProcesses, buildBundles, cleanStaleHomes, TestHome, waitFor } from './agentHarness';

/** Reads a raw connection until the daemon closes it; returns the JSON-RPC messages it sent. */
function readUntilClose(s: Socket, ms = 5000): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`the daemon did not close the connection within ${ms} ms`)), ms);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(parseFrames(Buffer.concat(chunks)));
    });
  });
}

function parseFrames(buf: Buffer): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  let rest = buf;
  while (rest.length) {
    const end = rest.indexOf('\r\n\r\n');
    assert.ok(end > 0, `unframed bytes from the daemon: ${rest.toString().slice(0, 80)}`);
    const len = Number(/Content-Length: (\d+)/i.exec(rest.subarray(0, end).toString())![1]);
    out.push(JSON.parse(rest.subarray(end + 4, end + 4 + len).toString()) as Record<string, unknown>);
    rest = rest.subarray(end + 4 + len);
  }
  return out;
}

const frame = (o: unknown): string => {
  const body = JSON.stringify(o);
  return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
};

async function expectRpcError(p: Promise<unknown>, code: number): Promise<ResponseError<AgentErrorData>> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ResponseError, String(err));
    assert.equal(err.code, code, err.message);
    return err as ResponseError<AgentErrorData>;
  }
  assert.fail(`expected error ${code}`);
}

describe('agent daemon behind `vendetta-agent attach` (built bundle)', function () {
  this.timeout(60_000);
  let home: TestHome;

  before(async () => {
    buildBundles();
    await cleanStaleHomes();
  });
  beforeEach(() => (home = TestHome.create()));
  afterEach(async () => home.dispose());

  it('starts the daemon on the first attach and answers initialize, ping and node/inspect over stdio', async () => {
    const t0 = Date.now();
    const { a, init } = await home.attachReady();
    const coldMs = Date.now() - t0;
    assert.equal(init.protocolVersion, AGENT_PROTOCOL_VERSION);
    assert.match(init.buildId, /^[0-9a-f]{12}$/);
    assert.equal(init.buildId, createHash('sha256').update(readFileSync(AGENT_JS)).digest('hex').slice(0, 12));
    assert.equal(home.lockPid(), init.pid);
    assert.notEqual(init.pid, a.proc.pid, 'the daemon is its own process');
    assert.ok(Math.abs(Date.parse(init.startedAt) - Date.now()) < 60_000);
    assert.equal(statSync(home.socket).mode & 0o777, 0o600);
    assert.equal(statSync(home.home).mode & 0o777, 0o700);

    const pong = await a.conn.sendRequest(Ping);
    assert.ok(Math.abs(pong.now - Date.now()) < 5000);
    const info = await a.conn.sendRequest(InspectNode);
    assert.equal(info.agentVersion, init.agentVersion);
    const sys = info.system;
    assert.ok(sys.hostname.length > 0 && sys.os.length > 0 && sys.kernel.length > 0);
    assert.ok(
      sys.cpus >= 1 &&
        sys.memoryTotalBytes > 0 &&
        sys.memoryAvailableBytes > 0 &&
        sys.memoryAvailableBytes <= sys.memoryTotalBytes,
    );
    assert.ok(sys.diskTotalBytes > 0 && sys.diskFreeBytes > 0 && sys.diskFreeBytes <= sys.diskTotalBytes);
    assert.equal(sys.load.length, 3);
    assert.equal(sys.nodeVersion, process.version);
    for (const p of ['docker', 'lxc', 'qemu'] as const) {
      const s = info.providers[p];
      assert.equal(typeof s.available, 'boolean', p);
      assert.ok(
        s.available ? typeof s.version === 'string' : typeof s.error === 'string',
        `${p}: ${JSON.stringify(s)}`,
      );
    }
    assert.equal(typeof info.providers.qemu.kvm, 'boolean');
    const t1 = Date.now();
    await a.conn.sendRequest(InspectNode);
    const warmMs = Date.now() - t1;
    assert.ok(warmMs < 200, `warm node/inspect took ${warmMs} ms`);
    console.log(`      cold attach+start+initialize ${coldMs} ms, warm node/inspect ${warmMs} ms`);

    assert.equal(await a.close(), 0);
    const log = readFileSync(join(home.home, 'logs/agent.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    assert.ok(log.some((l) => l.msg === 'started'));
  });

  it('keeps the daemon running after attach exits; the next attach reaches the same daemon', async () => {
    const first = await home.attachReady();
    assert.equal(await first.a.close(), 0);
    assert.ok(home.isAlive(first.init.pid));
    const second = await home.attachReady();
    assert.equal(second.init.pid, first.init.pid);
    assert.equal(second.init.startedAt, first.init.startedAt);
    await second.a.conn.sendRequest(Ping);
  });

  it('replaces a daemon killed with SIGKILL, and its stale socket and lock', async () => {
    const first = await home.attachReady();
    await first.a.close();
    process.kill(first.init.pid, 'SIGKILL');
    await waitFor('the killed daemon to be gone', () => !home.isAlive(first.init.pid));
    assert.ok(existsSync(home.socket) && home.lockPid() === first.init.pid, 'socket and lock are left behind');
    const second = await home.attachReady();
    assert.notEqual(second.init.pid, first.init.pid);
    assert.equal(home.lockPid(), second.init.pid);
    await second.a.conn.sendRequest(Ping);
  });

  it('starts a single daemon for concurrent attaches', async () => {
    const all = await Promise.all([1, 2, 3, 4].map(() => home.attachReady()));
    const pids = new Set(all.map((x) => x.init.pid));
    assert.equal(pids.size, 1, `daemons: ${[...pids].join(', ')}`);
    // Starters that lost the race leave on their own.
    await waitFor('one daemon process', () => agentProcesses(home.home, 'daemon').length === 1);
    assert.deepEqual(agentProcesses(home.home, 'daemon'), [...pids]);
  });

  it('refuses another protocol version with a typed error that says what to upgrade', async () => {
    const a = home.attach();
    const newer = await expectRpcError(a.initialize(AGENT_PROTOCOL_VERSION + 1), AgentErrorCodes.ProtocolMismatch);
    assert.equal(newer.data?.code, 'PROTOCOL_MISMATCH');
    assert.equal(newer.data?.protocolVersion, AGENT_PROTOCOL_VERSION);
    assert.match(newer.data!.hint!, /upgrade the agent/);
    const older = await expectRpcError(a.initialize(0), AgentErrorCodes.ProtocolMismatch);
    assert.match(older.data!.hint!, /upgrade vendetta/);
    await expectRpcError(a.conn.sendRequest(Ping), AgentErrorCodes.NotInitialized);
    home.pids.add((await a.initialize()).pid);
  });

  it('refuses requests before initialize, then serves the same connection', async () => {
    const a = home.attach();
    const err = await expectRpcError(a.conn.sendRequest(InspectNode), AgentErrorCodes.NotInitialized);
    assert.equal(err.data?.code, 'NOT_INITIALIZED');
    home.pids.add((await a.initialize()).pid);
    await a.conn.sendRequest(Ping);
  });

  it('answers garbage on one connection with an error and closes it, while other clients go on', async () => {
    const { a } = await home.attachReady();
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['not a header', 'hello, this is not JSON-RPC\r\n', /expected a `Content-Length: N` header/],
      ['binary noise', Buffer.from([0, 255, 1, 254, 13, 10, 13, 10]), /expected a `Content-Length: N` header/],
      [
        'truncated body',
        'Content-Length: 200\r\n\r\n{"jsonrpc":"2.0","id":1,"meth',
        /ended in the middle of a message \(received 29 of 200 bytes/,
      ],
      ['bad length', 'Content-Length: many\r\n\r\n{}', /Content-Length must be a number/],
    ];
    for (const [name, bytes, re] of cases) {
      const s = await home.rawSocket();
      const answers = readUntilClose(s);
      s.write(bytes);
      if (name === 'truncated body') s.end(); // the client gives up mid-message
      const msgs = await answers;
      assert.equal(msgs.length, 1, name);
      const error = msgs[0]!.error as { code: number; message: string; data: AgentErrorData };
      assert.equal(msgs[0]!.id, null, name);
      assert.equal(error.code, -32700, name);
      assert.equal(error.data.code, 'PARSE_ERROR', name);
      assert.match(error.message, re, name);
      await a.conn.sendRequest(Ping); // the daemon serves on
    }
  });

  it('answers bad JSON, non-JSON-RPC and bad params without closing the connection', async () => {
    const { a, init } = await home.attachReady();
    const s = await home.rawSocket();
    const answers = readUntilClose(s);
    const junk = 'Content-Length: 5\r\n\r\n{"a":';
    s.write(
      junk +
        frame({ id: 9, method: 'agent/ping' }) +
        frame({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: 'one' } }),
    );
    s.write(
      frame({
        jsonrpc: '2.0',
        id: 2,
        method: 'initialize',
        params: { protocolVersion: AGENT_PROTOCOL_VERSION, clientName: 'raw', clientVersion: '1' },
      }),
    );
    s.write(
      frame({ jsonrpc: '2.0', id: 3, method: 'node/inspect', params: { verbose: true } }) +
        frame({ jsonrpc: '2.0', id: 4, method: 'agent/ping' }),
    );
    s.write(frame({ jsonrpc: '2.0', id: 5, method: 'no/such/method' }));
    s.end(); // everything asked is still answered before the daemon closes
    const msgs = await answers;
    const byId = new Map(msgs.map((m) => [m.id, m]));
    const err = (id: unknown): { code: number; message: string } =>
      byId.get(id)!.error as { code: number; message: string };
    assert.equal(msgs.filter((m) => m.id === null).length, 1);
    assert.equal((msgs.find((m) => m.id === null)!.error as { code: number }).code, -32700);
    assert.equal(err(9).code, -32600);
    assert.equal(err(1).code, -32602);
    assert.match(err(1).message, /protocolVersion must be a non-negative integer/);
    assert.equal((byId.get(2)!.result as { pid: number }).pid, init.pid);
    assert.equal(err(3).code, -32602);
    assert.match(err(3).message, /node\/inspect: it takes no parameters/);
    assert.equal(typeof (byId.get(4)!.result as { now: number }).now, 'number');
    assert.equal(err(5).code, -32601);
    await a.conn.sendRequest(Ping);
  });

  it('stops on agent/shutdown and removes its socket and lock', async () => {
    const { a, init } = await home.attachReady();
    assert.deepEqual(await a.conn.sendRequest(Shutdown), { pid: init.pid });
    assert.equal(await a.exited, 0, 'attach ends when the daemon closes');
    await waitFor('the daemon to exit', () => !home.isAlive(init.pid));
    assert.equal(existsSync(home.socket), false);
    assert.equal(existsSync(home.pidFile), false);
    const log = readFileSync(join(home.home, 'logs/agent.log'), 'utf8');
    assert.match(log, /"msg":"stopped","reason":"agent\/shutdown from connection \d+ \(agent-integration-test\)"/);
  });

  it('stops cleanly on SIGTERM, letting go of its clients', async () => {
    const { a, init } = await home.attachReady();
    process.kill(init.pid, 'SIGTERM');
    assert.equal(await a.exited, 0);
    await waitFor('the daemon to exit', () => !home.isAlive(init.pid));
    assert.equal(existsSync(home.socket), false);
    assert.equal(existsSync(home.pidFile), false);
  });

  it('prints its version and build id', () => {
    const r = spawnSync(process.execPath, [AGENT_JS, 'version'], { env: home.env, encoding: 'utf8' });
    assert.equal(r.status, 0);
    const v = JSON.parse(r.stdout) as { version: string; buildId: string; protocolVersion: number };
    assert.equal(v.protocolVersion, AGENT_PROTOCOL_VERSION);
    assert.equal(v.buildId, createHash('sha256').update(readFileSync(AGENT_JS)).digest('hex').slice(0, 12));
    const bad = spawnSync(process.execPath, [AGENT_JS, 'attach', 'extra'], { env: home.env, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^error: attach takes no arguments/);
  });

  it('fails attach with a clear error when the agent home cannot be made', async () => {
    writeFileSync(join(home.dir, 'plainfile'), '');
    const r = spawnSync(process.execPath, [AGENT_JS, 'attach'], {
      env: { ...home.env, VENDETTA_AGENT_HOME: join(home.dir, 'plainfile', 'home') },
      encoding: 'utf8',
      input: '',
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: Cannot create the agent home .*plainfile\/home/m);
    assert.match(r.stderr, /^hint: /m);
    assert.equal(r.stdout, '');
  });
});
