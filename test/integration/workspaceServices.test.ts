import assert from 'node:assert/strict';
import { join } from 'node:path';
import type {
  ForwardInfo,
  PortInfo,
  ServiceLogLine,
  WorkspaceStatus,
  WorkspaceUpResult,
} from '../../coordinator/protocol';
import { createDockerNodes, type DockerNode, type DockerNodes } from '../infra/dockerNode';
import { pidAlive } from '../infra/sys';
import { createCliHome, REPO, waitUntil, type CliHome } from './coordinatorHarness';
import { assertHelloHealthy } from './lifecycleRun';
import { httpGet, httpGetScript, startLive, type LiveCommand } from './servicesHarness';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';

const HELLO = join(REPO, 'examples', 'hello');

function parse<T>(r: { code: number; stdout: string; stderr: string }, what: string): T {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const needsRoot = (ctx: Mocha.Context, what: string) => {
  // Needs root (dockerd, network namespaces); under CI it never skips.
  if (process.getuid?.() !== 0 && process.env.CI !== 'true') {
    console.log(`    (skipped: ${what} needs root)`);
    ctx.skip(); // not root, off CI
  }
};

describe('services of examples/hello on the local node: up, ports, forward, logs through the built CLI', function () {
  let env: WorkspaceEnv;
  const live: LiveCommand[] = [];
  const numbers: Record<string, number> = {};
  const liveCli = (args: string[]) => {
    const c = startLive([...env.dockerd.nsenter, process.execPath, join(env.h.dir, 'bin', 'vendetta.js'), ...args], {
      ...process.env,
      VENDETTA_HOME: env.h.home,
      DOCKER_HOST: env.dockerd.host,
      SSH_AUTH_SOCK: '',
      TZ: 'UTC',
    });
    live.push(c);
    return c;
  };
  /** An HTTP request from this machine's side of the forward (the test's network namespace). */
  const get = async (url: string, method = 'GET') =>
    JSON.parse((await env.run(httpGetScript(url, method))).stdout || '{"status":-1,"body":""}') as {
      status: number;
      body: string;
    };

  before(async function () {
    needsRoot(this, 'the services suite');
    this.timeout(600_000);
    env = await createWorkspaceEnv();
  });

  after(async function () {
    this.timeout(120_000);
    for (const c of live) await c.stop('SIGKILL').catch(() => undefined);
    if (!env) return;
    await env.cli(['workspace', 'rm', 'hello', '--force']).catch(() => undefined);
    await env.cleanup();
    if (Object.keys(numbers).length) console.log(`    measured: ${JSON.stringify(numbers)}`);
  });

  it('up starts db, then api, then web, each healthy, each port published on the node', async function () {
    this.timeout(300_000);
    const up = await env.cli(['workspace', 'up', HELLO, '--json']);
    const r = parse<WorkspaceUpResult>(up, 'workspace up');
    numbers.upToHealthyMs = up.ms;
    assertHelloHealthy(r.services);
    const healthyAt = (n: string) => Date.parse(r.services!.find((s) => s.name === n)!.healthyAt!);
    const startedAt = (n: string) => Date.parse(r.services!.find((s) => s.name === n)!.startedAt!);
    assert.ok(
      startedAt('api') >= healthyAt('db') && startedAt('web') >= healthyAt('api'),
      'each starts after its dependency is healthy',
    );

    const ports = parse<PortInfo[]>(await env.cli(['workspace', 'ports', 'hello', '--json']), 'ports');
    assert.deepEqual(
      ports.map((p) => [p.service, p.port, p.health]),
      [
        ['db', 7070, 'healthy'],
        ['api', 3000, 'healthy'],
        ['web', 8080, 'healthy'],
      ],
    );
    for (const p of ports) {
      assert.ok((p.nodePort! > 0 && p.nodePort !== p.port) || p.nodePort! > 1024, JSON.stringify(p));
      assert.equal(
        p.url,
        `${p.service === 'db' ? 'tcp' : 'http'}://127.0.0.1:${p.nodePort}`,
        'db is TCP-checked: not a URL for a browser',
      );
      assert.equal(p.localPort, undefined);
    }
    // The local node's loopback is this machine's: the node-side URL answers here too.
    assert.equal((await get(`${ports[2]!.url}/`)).status, 200);

    const table = await env.cli(['workspace', 'ports', 'hello']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^PORT +SOURCE +SERVICE +LABEL +STATE +NODE PORT +URL$/m);
    assert.match(
      table.stdout,
      /^8080 +service +web +Web page +healthy +\d+ +http:\/\/127\.0\.0\.1:\d+ \(on the node\)$/m,
    );
    const status = await env.cli(['workspace', 'status', 'hello']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^api +healthy +3000 +\d+ +0 /m);
    assert.deepEqual(
      parse<WorkspaceStatus>(await env.cli(['workspace', 'status', 'hello', '--json']), 'status').services?.map(
        (s) => s.state,
      ),
      ['healthy', 'healthy', 'healthy'],
    );
  });

  it("forward returns HTTP 200 here, carries the page's API calls through, and Ctrl-C ends it with exit 0", async function () {
    this.timeout(120_000);
    const fwd = liveCli(['workspace', 'forward', 'hello', '8080']);
    const { match } = await fwd.waitFor(
      /^Forwarding http:\/\/127\.0\.0\.1:(\d+) → hello:8080 \(node local\)$/m,
      30_000,
    );
    const url = `http://127.0.0.1:${match[1]}`;
    const page = await get(`${url}/`);
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /<html/i);
    const visits = await get(`${url}/api/visits`, 'POST');
    assert.equal(visits.status, 200, visits.body);
    assert.ok((JSON.parse(visits.body) as { visits: number }).visits >= 1);
    const rows = parse<PortInfo[]>(await env.cli(['workspace', 'ports', 'hello', '--json']), 'ports');
    assert.equal(rows.find((p) => p.port === 8080)?.localPort, Number(match[1]));
    assert.equal(await fwd.stop('SIGINT'), 0, fwd.stderr());
    assert.equal((await get(`${url}/`)).status, 0, 'nothing listens after Ctrl-C');
    assert.equal(
      parse<PortInfo[]>(await env.cli(['workspace', 'ports', 'hello', '--json']), 'ports').find((p) => p.port === 8080)
        ?.localPort,
      undefined,
    );

    const bad = await env.cli(['workspace', 'forward', 'hello', '9999']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /^error: No service of hello listens on port 9999$/m);
    assert.match(bad.stderr, /^hint: .*8080 \(web\)/m);
    const usage = await env.cli(['workspace', 'forward', 'hello', '80:x']);
    assert.equal(usage.code, 2);
  });

  it('logs: every service interleaved and labelled, one service unlabelled, --json lines; -f shows a new line within a second', async function () {
    this.timeout(120_000);
    const all = await env.cli(['workspace', 'logs', 'hello'], { env: { TZ: 'UTC' } });
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^\d\d:\d\d:\d\d\.\d{3} db +\| db listening on /m);
    assert.match(all.stdout, /^\d\d:\d\d:\d\d\.\d{3} api +\| api listening on /m);
    const one = await env.cli(['workspace', 'logs', 'hello', 'api', '--tail', '1']);
    assert.match(one.stdout, /^\d\d:\d\d:\d\d\.\d{3} (?!api \|)\S/m);
    const json = (await env.cli(['workspace', 'logs', 'hello', '--json', '--since', '10m'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ServiceLogLine);
    assert.ok(
      json.some((l) => l.service === 'web'),
      JSON.stringify(json),
    );
    const times = json.map((l) => l.time);
    assert.deepEqual(times, [...times].sort(), 'interleaved by time');
    assert.equal((await env.cli(['workspace', 'logs', 'hello', '--since', 'yesterday'])).code, 2);

    const follow = liveCli(['workspace', 'logs', 'hello', '-f', '--tail', '0']);
    await new Promise((r) => setTimeout(r, 1500)); // the follow is set up
    const marker = `marker-${Date.now()}`;
    const apiPid = parse<WorkspaceStatus>(
      await env.cli(['workspace', 'status', 'hello', '--json']),
      'status',
    ).services!.find((s) => s.name === 'api')!.pid!;
    const t0 = Date.now();
    const wrote = await env.cli([
      'workspace',
      'exec',
      'hello',
      '--',
      'sh',
      '-c',
      `echo ${marker} > /proc/${apiPid}/fd/1`,
    ]);
    assert.equal(wrote.code, 0, wrote.stderr);
    const written = Date.now();
    const seen = await follow.waitFor(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} api +\\| ${marker}$`, 'm'), 5000);
    numbers.logsFollowLineMs = seen.at - t0;
    assert.ok(seen.at - written < 1000, `the line showed ${seen.at - written} ms after it was written`);
    assert.equal(await follow.stop('SIGINT'), 0, follow.stderr());
  });

  it('up --forward forwards forwardPorts; a second up leaves the healthy services running', async function () {
    this.timeout(180_000);
    const before = parse<WorkspaceStatus>(
      await env.cli(['workspace', 'status', 'hello', '--json']),
      'status',
    ).services!;
    const r = parse<WorkspaceUpResult>(
      await env.cli(['workspace', 'up', HELLO, '--forward', '--json']),
      'up --forward',
    );
    assert.equal(r.existed, true);
    assert.deepEqual(
      r.services?.map((s) => [s.name, s.state, s.pid, s.startedAt]),
      before.map((s) => [s.name, 'healthy', s.pid, s.startedAt]),
      'nothing restarted',
    );
    const f = r.forwards?.[0] as ForwardInfo;
    assert.deepEqual([r.forwards?.length, f.port], [1, 8080]);
    assert.equal((await get(`${f.url}/`)).status, 200);
    const human = await env.cli(['workspace', 'up', HELLO, '--forward']);
    // On the local node the service itself holds 127.0.0.1:8080, and the line says so.
    assert.match(
      human.stdout,
      /^ {2}forward: Forwarding http:\/\/127\.0\.0\.1:\d+ → hello:8080 \(node local\)( \(port 8080 is taken on this machine\))?$/m,
    );
    assert.match(human.stderr, /^\[7\/7\] Forwarding port 8080 /m);
    numbers.forwardedUrlPort = f.localPort;
  });

  it('rm leaves nothing running: no container, no forward, no listener', async function () {
    this.timeout(120_000);
    const fwd = parse<PortInfo[]>(await env.cli(['workspace', 'ports', 'hello', '--json']), 'ports').find(
      (p) => p.port === 8080,
    )!;
    assert.ok(fwd.localPort);
    // The workspace's processes as this machine numbers them (the services among them).
    const [container] = (await env.containers()) as unknown as Array<{ Id: string }>;
    const top = (
      await env.dockerd.engine.json({
        method: 'GET',
        path: `/containers/${container!.Id}/top`,
        query: { ps_args: '-eo pid,args' },
        accept: [200],
        what: 'container top',
      })
    ).value as { Titles: string[]; Processes: string[][] };
    const pids = top.Processes.filter((p) => /services\/\w+\.mjs/.test(p.join(' '))).map((p) => Number(p[0]));
    assert.ok(pids.length >= 3, JSON.stringify(top.Processes)); // each service, maybe under its sh -c
    const rm = await env.cli(['workspace', 'rm', 'hello', '--force']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(await env.containers(), []);
    assert.equal((await get(`http://127.0.0.1:${fwd.localPort}/`)).status, 0);
    assert.equal((await get(`http://127.0.0.1:${fwd.nodePort}/`)).status, 0);
    assert.deepEqual(pids.filter(pidAlive), [], 'no service process left');
  });
});

describe('a forwarded port of a workspace on an SSH node: survives a cut link, never reaches another process on the node', function () {
  let net: DockerNodes | undefined;
  let h: CliHome | undefined;
  let node: DockerNode;
  let fwd: LiveCommand | undefined;

  before(async function () {
    needsRoot(this, 'the SSH services suite');
    this.timeout(600_000);
    net = await createDockerNodes({ count: 1, label: 'wssvc' });
    node = net.nodes[0]!;
    h = createCliHome();
    const add = await h.run(
      [
        'node',
        'add',
        node.name,
        '--host',
        node.host,
        '--user',
        node.user,
        '--identity',
        node.identity,
        '--host-key-fingerprint',
        node.hostKeyFingerprint,
        '--json',
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(add.code, 0, `node add: ${add.stderr}`);
  });

  after(async function () {
    this.timeout(120_000);
    try {
      await fwd?.stop('SIGKILL');
      if (h) await h.run(['workspace', 'rm', 'hello', '--force'], { timeoutMs: 60_000 }).catch(() => undefined);
    } finally {
      if (net) net.restoreLink(0);
      await h?.cleanup();
      await net?.destroy();
    }
  });

  it('forward answers 200 before, fails while the link is down, answers 200 again once it is back, without a restart', async function () {
    this.timeout(300_000);
    const up = await h!.run(['workspace', 'up', HELLO, '--node', node.name, '--json'], { timeoutMs: 240_000 });
    const r = parse<WorkspaceUpResult>(up, 'up on the SSH node');
    assert.deepEqual(
      r.services?.map((s) => s.state),
      ['healthy', 'healthy', 'healthy'],
    );
    fwd = startLive(
      [
        process.execPath,
        join(h!.dir, 'bin', 'vendetta.js'),
        'workspace',
        'forward',
        'hello',
        '8080:0',
        '--node',
        node.name,
      ],
      { ...process.env, VENDETTA_HOME: h!.home, SSH_AUTH_SOCK: '' },
    );
    const { match } = await fwd.waitFor(
      new RegExp(`^Forwarding http://127\\.0\\.0\\.1:(\\d+) → hello:8080 \\(node ${node.name}\\)$`, 'm'),
      30_000,
    );
    const url = `http://127.0.0.1:${match[1]}/`;
    assert.equal((await httpGet(url)).status, 200);

    net!.cutLink(0);
    let restored = false;
    try {
      const during = await httpGet(url, { timeoutMs: 3000 });
      assert.notEqual(during.status, 200, 'no answer while the link is down');
      // Long enough for the coordinator's keep-alive to give the link up: the next request reconnects.
      await waitUntil(
        async () => {
          const nodes = JSON.parse((await h!.run(['node', 'list', '--json'])).stdout) as Array<{
            name: string;
            state: string;
          }>;
          return nodes.find((n) => n.name === node.name)?.state !== 'online';
        },
        60_000,
        'the coordinator to see the link down',
      );
      net!.restoreLink(0);
      restored = true;
    } finally {
      if (!restored) net!.restoreLink(0);
    }
    let last = { status: 0, body: '', ms: 0 };
    const took = await waitUntil(
      async () => (last = await httpGet(url, { timeoutMs: 5000 })).status === 200,
      90_000,
      `200 again (last: ${last.status} ${last.body})`,
    );
    console.log(`      200 again ${(took / 1000).toFixed(1)} s after the link came back`);
    assert.equal(fwd.child.exitCode, null, 'the forward command kept running');
    for (let i = 0; i < 5; i++) assert.equal((await httpGet(url)).status, 200);
    assert.equal(await fwd.stop('SIGTERM'), 0, fwd.stderr());
    fwd = undefined;
  });

  it("a stopped workspace's node port, taken by another process on the node, receives nothing through the forward: the client is refused, the forward says why; started again it works", async function () {
    this.timeout(300_000);
    fwd = startLive(
      [
        process.execPath,
        join(h!.dir, 'bin', 'vendetta.js'),
        'workspace',
        'forward',
        'hello',
        '8080:0',
        '--node',
        node.name,
      ],
      { ...process.env, VENDETTA_HOME: h!.home, SSH_AUTH_SOCK: '' },
    );
    const { match } = await fwd.waitFor(/^Forwarding http:\/\/127\.0\.0\.1:(\d+) → hello:8080 /m, 30_000);
    const url = `http://127.0.0.1:${match[1]}/`;
    assert.equal((await httpGet(url)).status, 200);
    const ports = parse<PortInfo[]>(
      await h!.run(['workspace', 'ports', 'hello', '--node', node.name, '--json']),
      'ports',
    );
    const nodePort = ports.find((p) => p.port === 8080)!.nodePort;
    const stop = await h!.run(['workspace', 'stop', 'hello', '--node', node.name], { timeoutMs: 120_000 });
    assert.equal(stop.code, 0, stop.stderr);

    // Another process on the node takes the port the workspace let go of, and records any byte it gets
    // (the forward may open a stream to it while the node checks the port, but carries nothing).
    const intruder = startLive(
      [
        'ip',
        'netns',
        'exec',
        node.netns,
        process.execPath,
        '-e',
        `const got=[];require('net').createServer((c)=>c.on('data',(d)=>{process.stdout.write('received '+JSON.stringify(d.toString())+'\\n');c.end('HTTP/1.1 200 OK\\r\\ncontent-length: 9\\r\\n\\r\\nintruder!');})).listen(${nodePort},'127.0.0.1',()=>console.log('listening'));`,
      ],
      process.env,
    );
    try {
      await intruder.waitFor(/^listening$/m, 10_000);
      const refused = await httpGet(url, { timeoutMs: 10_000 });
      assert.notEqual(refused.status, 200, `got ${refused.status} ${refused.body}`);
      assert.equal(refused.status, 0, refused.body);
      await new Promise((r) => setTimeout(r, 500));
      assert.doesNotMatch(intruder.stdout(), /received/, 'the other process received nothing');
      await waitUntil(
        () =>
          /^error: Refused a connection to http:\/\/127\.0\.0\.1:\d+: Workspace hello is not running, so its port 8080 is not published on the node$/m.test(
            fwd!.stderr(),
          ),
        10_000,
        `the forward to say why (stderr: ${fwd.stderr()})`,
      );
      assert.match(fwd.stderr(), /^hint: Start it \(`vendetta workspace start hello`\)/m);
      assert.equal(fwd.child.exitCode, null, 'the forward keeps running');
    } finally {
      await intruder.stop('SIGKILL');
    }

    const start = await h!.run(['workspace', 'start', 'hello', '--node', node.name, '--json'], { timeoutMs: 240_000 });
    assert.equal(start.code, 0, start.stderr);
    let last = { status: 0, body: '', ms: 0 };
    await waitUntil(
      async () => (last = await httpGet(url, { timeoutMs: 5000 })).status === 200,
      90_000,
      `200 again after start (last: ${last.status} ${last.body})`,
    );
    assert.doesNotMatch(last.body, /intruder/);
    assert.equal(await fwd.stop('SIGTERM'), 0, fwd.stderr());
    fwd = undefined;
  });

  it("a workspace container stopped behind the agent's back (docker stop on the engine socket) refuses the very next forwarded connection: the engine's event dropped what the agent remembered", async function () {
    this.timeout(300_000);
    fwd = startLive(
      [
        process.execPath,
        join(h!.dir, 'bin', 'vendetta.js'),
        'workspace',
        'forward',
        'hello',
        '8080:0',
        '--node',
        node.name,
      ],
      { ...process.env, VENDETTA_HOME: h!.home, SSH_AUTH_SOCK: '' },
    );
    const { match } = await fwd.waitFor(/^Forwarding http:\/\/127\.0\.0\.1:(\d+) → hello:8080 /m, 30_000);
    const url = `http://127.0.0.1:${match[1]}/`;
    // Several connections, so the port mapping is the remembered one, not a fresh inspect.
    for (let i = 0; i < 3; i++) assert.equal((await httpGet(url)).status, 200);
    const [container] = (await net!.containers(0)).filter(
      (c) => c.Labels['dev.vendetta.workspace'] === 'hello' && c.State === 'running',
    );
    assert.ok(container, 'the hello container runs');
    await node.dockerd.engine.send(
      {
        method: 'POST',
        path: `/containers/${container.Id}/stop`,
        query: { t: 2 },
        accept: [204],
        what: 'stop the container',
      },
      { timeoutMs: 60_000 },
    );

    const refused = await httpGet(url, { timeoutMs: 10_000 });
    assert.equal(refused.status, 0, `got ${refused.status} ${refused.body}`);
    await waitUntil(
      () =>
        /^error: Refused a connection to http:\/\/127\.0\.0\.1:\d+: Workspace hello is not running, so its port 8080 is not published on the node$/m.test(
          fwd!.stderr(),
        ),
      10_000,
      `the forward to say why (stderr: ${fwd.stderr()})`,
    );
    assert.equal(fwd.child.exitCode, null, 'the forward keeps running');
    assert.equal(await fwd.stop('SIGTERM'), 0, fwd.stderr());
    fwd = undefined;
  });
});
