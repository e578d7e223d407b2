import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../../agent/errors';
import { NodePortTakenError } from '../../../agent/providers/contract';
import { dockerCalls } from '../../../agent/providers/docker/api';
import { EngineClient, EngineHttpError } from '../../../agent/providers/docker/engine';
import { DockerProvider } from '../../../agent/providers/docker/provider';

/** An HTTP peer on a Unix socket standing in for the engine. */
function engine(socket: string, handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(socket, () => resolve(server)));
}

describe('the agent talks plain HTTP to the Docker engine socket', () => {
  let dir: string;
  let server: Server | undefined;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vendetta-engine-'))));
  afterEach(async () => {
    if (server) {
      server.closeAllConnections();
      await new Promise((r) => server!.close(r));
    }
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('says where no engine answers and what to do, as PROVIDER_UNAVAILABLE', async () => {
    const client = new EngineClient(join(dir, 'none.sock'));
    await assert.rejects(client.send(dockerCalls.ping()), (err: unknown) => {
      assert.ok(err instanceof AgentError);
      assert.equal(err.code, 'PROVIDER_UNAVAILABLE');
      assert.match(err.message, /Docker could not answer a ping: no Docker engine answers on .*none\.sock/);
      assert.match(err.hint!, /Install Docker/);
      return true;
    });
  });

  it('cancels a provider call the engine does not answer when its signal aborts (start, stop, list, exec)', async () => {
    const pending: string[] = [];
    server = await engine(
      join(dir, 'slow.sock'),
      (req) => void pending.push(`${req.method} ${req.url?.split('?')[0]}`),
    );
    const provider = new DockerProvider(new EngineClient(join(dir, 'slow.sock')));
    const calls: Array<[string, (signal: AbortSignal) => Promise<unknown>]> = [
      ['start', (signal) => provider.start('c1', { signal })],
      ['stop', (signal) => provider.stop('c1', { signal })],
      ['list', (signal) => provider.list({ signal })],
      ['exec', (signal) => provider.exec('c1', ['true'], { signal })],
    ];
    for (const [what, call] of calls) {
      const abort = new AbortController();
      const done = call(abort.signal);
      while (pending.length === 0) await new Promise((r) => setTimeout(r, 5));
      abort.abort();
      await assert.rejects(done, (err: unknown) => {
        assert.ok(err instanceof AgentError, `${what}: ${String(err)}`);
        assert.equal(err.code, 'PROVIDER_ERROR');
        assert.match(err.message, /cancelled/);
        return true;
      });
      pending.length = 0;
    }
  });

  it("hands back accepted statuses, and the engine's own message for the others", async () => {
    const seen: string[] = [];
    server = await engine(join(dir, 'e.sock'), (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${req.headers['content-type'] ?? ''} ${body}`);
        if (req.url?.startsWith('/containers/create')) {
          res
            .writeHead(409, { 'Content-Type': 'application/json' })
            .end('{"message":"Conflict. The container name \\"/vendetta-x\\" is already in use"}');
        } else res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"No such container: x"}');
      });
    });
    const client = new EngineClient(join(dir, 'e.sock'));
    const r = await client.send(dockerCalls.containerInspect('x'));
    assert.equal(r.status, 404);
    await assert.rejects(client.send(dockerCalls.containerCreate('vendetta-x', { Image: 'i' })), (err: unknown) => {
      assert.ok(err instanceof EngineHttpError);
      assert.equal(err.status, 409);
      assert.equal(
        err.message,
        'Docker could not create the container vendetta-x: Conflict. The container name "/vendetta-x" is already in use',
      );
      return true;
    });
    assert.deepEqual(seen, [
      'GET /containers/x/json  ',
      'POST /containers/create?name=vendetta-x application/json {"Image":"i"}',
    ]);
  });

  it('gives up on an engine that does not answer, and on answers too large to be what was asked', async () => {
    server = await engine(join(dir, 'slow.sock'), (req, res) => {
      if (req.url === '/_ping') return; // never answers
      res.writeHead(200).end(Buffer.alloc(2048, 'x'));
    });
    const client = new EngineClient(join(dir, 'slow.sock'));
    const t0 = Date.now();
    await assert.rejects(
      client.send(dockerCalls.ping(), { timeoutMs: 200 }),
      (err: unknown) =>
        err instanceof AgentError && err.code === 'PROVIDER_ERROR' && /did not answer within 0\.2 s/.test(err.message),
    );
    assert.ok(Date.now() - t0 < 2_000);
    await assert.rejects(
      client.send(dockerCalls.containerList(), { maxBody: 1024 }),
      (err: unknown) =>
        err instanceof AgentError &&
        err.code === 'PROVIDER_ERROR' &&
        err.message === 'Docker\'s answer to "list the workspace containers" is larger than 1024 bytes',
    );
  });

  it("turns unexpected engine answers into PROVIDER_ERROR for the provider's callers", async () => {
    server = await engine(join(dir, 'odd.sock'), (_req, res) =>
      res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"message":"boom"}'),
    );
    const provider = DockerProvider.forSocket(join(dir, 'odd.sock'));
    await assert.rejects(
      provider.list(),
      (err: unknown) =>
        err instanceof AgentError &&
        err.code === 'PROVIDER_ERROR' &&
        err.message === 'Docker could not list the workspace containers: boom',
    );
    await assert.rejects(
      provider.exec('abc', ['true']),
      (err: unknown) => err instanceof AgentError && err.code === 'PROVIDER_ERROR',
    );
  });

  it("turns the engine's refusal to start on a taken published port into the provider-neutral NodePortTakenError", async () => {
    const said =
      'driver failed programming external connectivity on endpoint vendetta-x (abc): Error starting userland proxy: listen tcp4 127.0.0.1:8080: bind: address already in use';
    server = await engine(join(dir, 'taken.sock'), (_req, res) =>
      res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ message: said })),
    );
    const provider = DockerProvider.forSocket(join(dir, 'taken.sock'));
    await assert.rejects(
      provider.start('abc'),
      (err: unknown) => err instanceof NodePortTakenError && err.nodePort === 8080 && err.message.endsWith(said),
    );
  });

  it('refuses an exec stream the engine will not upgrade', async () => {
    server = await engine(join(dir, 'up.sock'), (_req, res) =>
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"No such exec instance: e"}'),
    );
    const client = new EngineClient(join(dir, 'up.sock'));
    await assert.rejects(
      client.hijack(dockerCalls.execStart('e', false), 2_000),
      (err: unknown) =>
        err instanceof EngineHttpError && err.status === 404 && /No such exec instance/.test(err.message),
    );
  });
});
