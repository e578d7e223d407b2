import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

const SERVICES = join(__dirname, '../../../examples/hello/services');

/** `n` distinct free ports: all held open until each is known, so none is handed out twice. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const addr = s.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

async function waitForPort(port: number, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect({ host: '127.0.0.1', port }, () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function http(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, body: await res.text() };
}

describe('the hello example runs with nothing but node', () => {
  const children = new Map<string, ChildProcess>();
  const ports = { db: 0, api: 0, web: 0 };

  before(async function () {
    this.timeout(15_000);
    [ports.db, ports.api, ports.web] = (await freePorts(3)) as [number, number, number];
    // What the agent gives every service: each service's host and port.
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [name, port] of Object.entries(ports)) {
      env[`VENDETTA_SERVICE_${name.toUpperCase()}_HOST`] = '127.0.0.1';
      env[`VENDETTA_SERVICE_${name.toUpperCase()}_PORT`] = String(port);
    }
    for (const name of ['db', 'api', 'web'] as const) {
      const child = spawn(process.execPath, [join(SERVICES, `${name}.mjs`)], {
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.set(name, child);
      await waitForPort(ports[name]);
    }
  });

  after(() => {
    for (const child of children.values())
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  });

  it('api is healthy once it can reach db', async () => {
    const r = await http(ports.api, '/health');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { ok: true, db: 'PONG' });
  });

  it('web serves the page and passes /api/ on to api, which counts in db', async () => {
    const page = await http(ports.web, '/');
    assert.equal(page.status, 200);
    assert.match(page.body, /fetch\('\/api\/visits'/);
    assert.deepEqual(JSON.parse((await http(ports.web, '/api/visits', 'POST')).body), { visits: 1 });
    assert.deepEqual(JSON.parse((await http(ports.web, '/api/visits', 'POST')).body), { visits: 2 });
    assert.deepEqual(JSON.parse((await http(ports.web, '/api/visits')).body), { visits: 2 });
  });

  it('api turns unhealthy when db stops', async () => {
    const db = children.get('db');
    assert.ok(db?.pid);
    const exited = new Promise((resolve) => db.once('exit', resolve));
    process.kill(db.pid, 'SIGTERM');
    await exited;
    const r = await http(ports.api, '/health');
    assert.equal(r.status, 503);
    assert.equal(JSON.parse(r.body).ok, false);
  });
});
