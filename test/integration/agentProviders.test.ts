import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { InspectNode } from '../../agent/protocol';
import { nodeProbeRunner } from '../../agent/providers/runner';
import { buildBundles, cleanStaleHomes, TestHome } from './agentHarness';

const recordedVersion = readFileSync(join(__dirname, '../fixtures/agent/docker-version-20.10.json'), 'utf8');

/** A real HTTP peer on a Unix socket that answers like the Docker Engine API. */
function fakeEngine(
  socketPath: string,
  answer: (path: string) => { status: number; body: string } | 'hang',
): Promise<{ server: Server; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    const a = answer(req.url ?? '');
    if (a === 'hang') return;
    res.writeHead(a.status, { 'Content-Type': 'application/json' });
    res.end(a.body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve({ server, paths }));
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

describe('docker detection talks HTTP to the engine socket', function () {
  this.timeout(60_000);
  let home: TestHome | undefined;
  let server: Server | undefined;

  before(async () => {
    buildBundles();
    await cleanStaleHomes();
  });
  afterEach(async () => {
    if (server) await close(server);
    server = undefined;
    await home?.dispose();
    home = undefined;
  });

  it('reports the engine version from GET /version on the socket DOCKER_HOST names', async () => {
    home = TestHome.create();
    const sock = join(home.dir, 'docker.sock');
    const engine = await fakeEngine(sock, (p) =>
      p === '/version' ? { status: 200, body: recordedVersion } : { status: 404, body: '{}' },
    );
    server = engine.server;
    home.env.DOCKER_HOST = `unix://${sock}`;
    const { a } = await home.attachReady();
    const info = await a.conn.sendRequest(InspectNode);
    assert.deepEqual(info.providers.docker, {
      available: true,
      socket: sock,
      version: '20.10.24+dfsg1',
      apiVersion: '1.41',
    });
    assert.deepEqual(engine.paths, ['GET /version']);
  });

  it('says in words that no engine answers when the socket is missing', async () => {
    home = TestHome.create();
    const sock = join(home.dir, 'no-docker-here.sock');
    home.env.DOCKER_HOST = `unix://${sock}`;
    const { a } = await home.attachReady();
    const { docker } = (await a.conn.sendRequest(InspectNode)).providers;
    assert.equal(docker.available, false);
    assert.equal(docker.error, `no Docker engine answers on ${sock} (the socket does not exist)`);
    assert.match(docker.hint!, /Install Docker/);
  });

  it('tells a refused connection, an error status and a hung engine apart', async () => {
    home = TestHome.create();
    const stale = join(home.dir, 'stale.sock');
    // A socket file whose listener was killed: connecting is refused.
    const child = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    await new Promise((r) => child.on('exit', r));
    assert.ok(existsSync(stale));
    const refused = await nodeProbeRunner.run({ kind: 'http-unix', socketPath: stale, path: '/version' }, 1000);
    assert.deepEqual([refused.ok, !refused.ok && refused.code], [false, 'ECONNREFUSED']);

    const sock = join(home.dir, 'docker.sock');
    let mode: 'error' | 'hang' = 'error';
    server = (await fakeEngine(sock, () => (mode === 'hang' ? 'hang' : { status: 500, body: '{"message":"boom"}' })))
      .server;
    const failed = await nodeProbeRunner.run({ kind: 'http-unix', socketPath: sock, path: '/version' }, 1000);
    assert.ok(!failed.ok && failed.status === 500 && failed.body === '{"message":"boom"}');
    mode = 'hang';
    const t0 = Date.now();
    const hung = await nodeProbeRunner.run({ kind: 'http-unix', socketPath: sock, path: '/version' }, 150);
    assert.ok(!hung.ok && hung.code === 'ETIMEDOUT');
    assert.ok(Date.now() - t0 < 1000);
  });

  it('runs commands with argv only and reports a missing one', async () => {
    const echo = await nodeProbeRunner.run({ kind: 'exec', file: 'echo', args: ['$HOME;', '`id`'] }, 2000);
    assert.deepEqual(echo, { ok: true, status: 0, body: '$HOME; `id`\n' });
    const missing = await nodeProbeRunner.run({ kind: 'exec', file: 'no-such-program-vendetta', args: [] }, 2000);
    assert.ok(!missing.ok && missing.code === 'ENOENT');
    const fails = await nodeProbeRunner.run({ kind: 'exec', file: 'sh', args: ['-c', 'echo bad >&2; exit 3'] }, 2000);
    assert.ok(!fails.ok && fails.code === 'EXIT3' && fails.message === 'bad');
    const slow = await nodeProbeRunner.run({ kind: 'exec', file: 'sleep', args: ['5'] }, 100);
    assert.ok(!slow.ok && slow.code === 'ETIMEDOUT');
    const kvm = await nodeProbeRunner.run({ kind: 'access', path: '/nonexistent/kvm', mode: 'rw' }, 100);
    assert.ok(!kvm.ok && kvm.code === 'ENOENT');
  });
});
