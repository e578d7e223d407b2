/**
 * Services of a workspace, run by the BUILT agent on a real, private dockerd in its own network
 * namespace (the node), driven over the agent's protocol with examples/hello's config as the
 * coordinator resolves it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateWorkspace,
  ListServices,
  RemoveWorkspace,
  ServiceLogLines,
  ServiceLogs,
  ServicesDidChange,
  Shutdown,
  StartServices,
  StartWorkspace,
  UnfollowLogs,
  StopServices,
  StopWorkspace,
  type ServiceLogLine,
  type ServiceSpec,
  type WorkspaceInfo,
  type WorkspaceServicesStatus,
  type WorkspaceSpec,
} from '../../agent/protocol';
import { DockerProvider } from '../../agent/providers/docker/provider';
import { buildSpec, loadProject } from '../../coordinator/workspaces/project';
import { startDockerd, type Dockerd } from '../infra/docker';
import { ensureTestImage } from '../infra/image';
import { requireCommands, requireRoot } from '../infra/sys';
import { AGENT_JS, Attached, buildBundles, cleanStaleHomes, ROOT, TestHome } from './agentHarness';

const HELLO = join(ROOT, 'examples/hello');
const PUB = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEaAlIAOWFiM2S5k6XtIb60EpQQNCjFD8D/C4tkrR5nY it@test';

describe('workspace services on a real Docker engine, through the built agent', function () {
  this.timeout(180_000);
  let dockerd: Dockerd | undefined;
  let home: TestHome | undefined;
  let dir: string;
  let agent: Attached;
  let squatter: ChildProcess | undefined;
  const changes: WorkspaceServicesStatus[] = [];

  async function attach(): Promise<Attached> {
    const a = new Attached(
      spawn('nsenter', [...dockerd!.nsenter.slice(1, -1), '--', process.execPath, AGENT_JS, 'attach'], {
        env: home!.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    const init = await a.initialize();
    home!.pids.add(init.pid);
    a.conn.onNotification(ServicesDidChange, (s) => {
      changes.push(s);
    });
    return a;
  }

  /** A command inside the engine's network namespace (where published ports are). */
  function inNetns(argv: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('nsenter', [...dockerd!.nsenter.slice(1, -1), '--', ...argv], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  async function helloSpec(name: string): Promise<WorkspaceSpec> {
    const project = await loadProject(HELLO);
    return buildSpec(project.config, { name }, PUB);
  }

  async function createWith(spec: WorkspaceSpec): Promise<WorkspaceInfo> {
    const info = await agent.conn.sendRequest(CreateWorkspace, { spec });
    assert.equal(info.state, 'running');
    return info;
  }

  const list = (workspace: string) => agent.conn.sendRequest(ListServices, { workspace });
  const logs = async (workspace: string, service?: string): Promise<ServiceLogLine[]> =>
    (await agent.conn.sendRequest(ServiceLogs, { workspace, ...(service ? { service } : {}) })).lines;

  async function until(
    what: string,
    workspace: string,
    ok: (s: WorkspaceServicesStatus) => boolean,
    ms = 60_000,
  ): Promise<WorkspaceServicesStatus> {
    const end = Date.now() + ms;
    for (;;) {
      const s = await list(workspace);
      if (ok(s)) return s;
      if (Date.now() > end)
        assert.fail(
          `timed out waiting for ${what}: ${JSON.stringify(s.services.map((x) => [x.name, x.state, x.reason]))}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const stateOf = (s: WorkspaceServicesStatus, name: string) => s.services.find((x) => x.name === name)!;
  const timeOf = (lines: ServiceLogLine[], service: string, re: RegExp): number => {
    const l = lines.find((x) => x.service === service && x.stream === 'system' && re.test(x.line));
    assert.ok(l, `no ${re} line of ${service} in ${JSON.stringify(lines.filter((x) => x.service === service))}`);
    return Date.parse(l.time);
  };

  /** Processes inside the workspace container, as `ps` lists them. */
  async function psIn(name: string): Promise<string> {
    const provider = new DockerProvider(dockerd!.engine);
    const r = await provider.exec(`vendetta-${name}`, ['ps', '-eo', 'pid,args'], {});
    return r.stdout;
  }

  before(async function () {
    this.timeout(300_000);
    requireRoot(this, 'the workspace services suite');
    requireCommands(this, 'the workspace services suite', ['dockerd', 'nsenter', 'debootstrap']);
    buildBundles();
    await cleanStaleHomes();
    dir = mkdtempSync(join(tmpdir(), 'vendetta-svc-it-'));
    dockerd = await startDockerd({ dir: join(dir, 'dockerd'), ownNetns: true });
    await ensureTestImage(dockerd.socket);
    home = TestHome.create({ DOCKER_HOST: dockerd.host });
    // Someone else holds 7070 on the node: hello's db must get another port, and say so.
    squatter = spawn(
      'nsenter',
      [
        ...dockerd.nsenter.slice(1, -1),
        '--',
        process.execPath,
        '-e',
        "require('net').createServer().listen(7070,'127.0.0.1',()=>console.log('up'))",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => squatter!.stdout!.once('data', () => resolve()));
    agent = await attach();
  });

  after(async () => {
    squatter?.kill('SIGKILL');
    await home?.dispose();
    await dockerd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let helloStartToHealthyMs = 0;

  it('starts hello in dependency order behind health checks; a taken node port gets another one, reported', async () => {
    const info = await createWith(await helloSpec('hello'));
    cpSync(HELLO, info.nodeFolder, { recursive: true });
    const t0 = Date.now();
    const started = await agent.conn.sendRequest(StartServices, { workspace: 'hello' });
    assert.deepEqual(
      started.services.map((s) => s.name),
      ['db', 'api', 'web'],
    );
    const s = await until('hello healthy', 'hello', (x) => x.services.every((y) => y.state === 'healthy'));
    helloStartToHealthyMs = Date.now() - t0;
    console.log(`      services/start → db, api, web healthy: ${helloStartToHealthyMs} ms`);
    const lines = await logs('hello');
    const step = (svc: string) => `${svc} ${timeOf(lines, svc, /^healthy$/) - timeOf(lines, svc, /^starting:/)} ms`;
    console.log(`      starting → healthy: ${['db', 'api', 'web'].map(step).join(', ')}`);
    // Each starts only once what it depends on is healthy.
    assert.ok(
      timeOf(lines, 'db', /^healthy$/) <= timeOf(lines, 'api', /^starting:/),
      'api started before db was healthy',
    );
    assert.ok(
      timeOf(lines, 'api', /^healthy$/) <= timeOf(lines, 'web', /^starting:/),
      'web started before api was healthy',
    );
    // Ports: 7070 was taken on the node.
    const db = stateOf(s, 'db');
    assert.equal(db.port, 7070);
    assert.ok(db.nodePort && db.nodePort !== 7070, `db published on ${db.nodePort}`);
    assert.ok(
      lines.some(
        (l) =>
          l.service === 'db' &&
          l.stream === 'system' &&
          l.line.includes(`port 7070 is taken on the node; port 7070 is published on 127.0.0.1:${db.nodePort}`),
      ),
    );
    assert.equal(stateOf(s, 'web').nodePort, 8080);
    // The published port really reaches web (listening on the workspace's loopback) and api behind it.
    const r = inNetns([
      'node',
      '-e',
      `require('http').get('http://127.0.0.1:${stateOf(s, 'web').nodePort}/api/visits',(res)=>{let b='';res.on('data',(c)=>b+=c);res.on('end',()=>console.log(res.statusCode,b.trim()))})`,
    ]);
    assert.match(r.stdout, /^200 \{"visits":0\}/, r.stderr);
    assert.ok(
      lines.some(
        (l) => l.service === 'db' && l.stream === 'stdout' && /db listening on 127\.0\.0\.1:7070/.test(l.line),
      ),
    );
    assert.ok(
      changes.some((c) => c.workspace === 'hello' && c.services.every((x) => x.state === 'healthy')),
      'a services/didChange said all healthy',
    );
  });

  it('measures services/start → all healthy beside the same three services started directly, alternating, medians of 3', async () => {
    await agent.conn.sendRequest(StopServices, { workspace: 'hello' });
    // db, api, web one after the other, each as soon as it listens (polled every 10 ms).
    const script = `cd /workspaces/hello; t0=$(date +%s%N)
up() { while ! grep -q ":$1 00000000:0000 0A" /proc/net/tcp; do sleep 0.01; done; }
node services/db.mjs >/dev/null & up 1B9E; node services/api.mjs >/dev/null & up 0BB8; node services/web.mjs >/dev/null & up 1F90
echo $(( ($(date +%s%N) - t0) / 1000000 )); kill $(jobs -p)`;
    const provider = new DockerProvider(dockerd!.engine);
    const direct: number[] = [];
    const through: number[] = [helloStartToHealthyMs];
    for (let i = 0; i < 3; i++) {
      const r = await provider.exec('vendetta-hello', ['bash', '-c', script], {});
      direct.push(Number(r.stdout.trim()));
      assert.ok(direct[i]! > 0, r.stderr);
      if (i === 2) break;
      const t0 = Date.now();
      await agent.conn.sendRequest(StartServices, { workspace: 'hello' });
      await until('hello healthy', 'hello', (x) => x.services.every((y) => y.state === 'healthy'));
      through.push(Date.now() - t0);
      await agent.conn.sendRequest(StopServices, { workspace: 'hello' });
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
    console.log(
      `      direct ${direct.join('/')} ms, median ${median(direct)}; through the agent ${through.join('/')} ms, median ${median(through)}`,
    );
  });

  it('supervises the services again after the agent daemon restarts', async () => {
    await agent.conn.sendRequest(StartServices, { workspace: 'hello' });
    await until('hello healthy', 'hello', (x) => x.services.every((y) => y.state === 'healthy'));
    const t0 = Date.now();
    await agent.conn.sendRequest(Shutdown);
    await agent.close();
    const t1 = Date.now();
    agent = await attach();
    const t2 = Date.now();
    const s = await until('hello healthy again', 'hello', (x) => x.services.every((y) => y.state === 'healthy'));
    console.log(
      `      agent restart: old daemon gone after ${t1 - t0} ms, new attached after ${t2 - t1} ms, services healthy again after ${Date.now() - t2} ms`,
    );
    assert.ok(s.services.every((x) => x.pid !== undefined));
    if (process.env.DEBUG_SERVICES) console.log('attached at', new Date(t2).toISOString());
    if (process.env.DEBUG_SERVICES)
      for (const l of (await logs('hello')).filter((x) => Date.parse(x.time) >= t0))
        console.log(l.time, l.service, l.stream, l.line);
    const ps = await psIn('hello');
    // One of each: the old runs were swept, not left beside the new ones.
    for (const svc of ['db', 'api', 'web'])
      assert.equal(
        ps.split('\n').filter((l) => l.includes(`node services/${svc}.mjs`) && !l.includes('/bin/sh')).length,
        1,
        ps,
      );
  });

  it('stops in reverse dependency order and leaves no service process', async () => {
    const s = await agent.conn.sendRequest(StopServices, { workspace: 'hello' });
    assert.ok(
      s.services.every((x) => x.state === 'stopped'),
      JSON.stringify(s.services),
    );
    const lines = await logs('hello');
    const last = (svc: string, re: RegExp) =>
      Date.parse([...lines].reverse().find((l) => l.service === svc && re.test(l.line))!.time);
    assert.ok(last('web', /^stopped/) <= last('api', /^stopping/), 'api was stopped before web');
    assert.ok(last('api', /^stopped/) <= last('db', /^stopping/), 'db was stopped before api');
    assert.doesNotMatch(await psIn('hello'), /services\/(db|api|web)\.mjs/);
  });

  it('keeps its node ports across a stop and start of the workspace, and names a port taken meanwhile', async () => {
    const before = await list('hello');
    await agent.conn.sendRequest(StopWorkspace, { name: 'hello' });
    const web = stateOf(before, 'web').nodePort!;
    const holder = spawn(
      'nsenter',
      [
        ...dockerd!.nsenter.slice(1, -1),
        '--',
        process.execPath,
        '-e',
        `require('net').createServer().listen(${web},'127.0.0.1',()=>console.log('up'))`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
      await assert.rejects(agent.conn.sendRequest(StartWorkspace, { name: 'hello' }), (e: Error) =>
        e.message.includes(
          `port ${web} on the node's 127.0.0.1 (where service web is published) is taken by another process`,
        ),
      );
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    await agent.conn.sendRequest(StartWorkspace, { name: 'hello' });
    await agent.conn.sendRequest(StartServices, { workspace: 'hello' });
    const after = await until('hello healthy', 'hello', (x) => x.services.every((y) => y.state === 'healthy'));
    assert.deepEqual(
      after.services.map((x) => x.nodePort),
      before.services.map((x) => x.nodePort),
    );
  });

  it('keeps api waiting on an unhealthy db, restarts a crashing service with backoff into a crash loop, runs shell commands inside', async () => {
    const marker = `/tmp/vendetta-svc-it-${process.pid}`;
    const services: ServiceSpec[] = [
      {
        name: 'db',
        command: 'sleep 600',
        port: 7071,
        env: {},
        dependsOn: [],
        restart: 'no',
        // A long timeout: on a busy machine a check may take seconds, and the test wants the refusal, not a timeout.
        healthcheck: { kind: 'tcp', port: 7071, intervalMs: 200, timeoutMs: 15_000, retries: 2, startPeriodMs: 0 },
      },
      { name: 'api', command: ['sleep', '600'], env: {}, dependsOn: ['db'], restart: 'no' },
      {
        name: 'shell',
        command: `echo a; echo b > ${marker} && echo $HOME; echo "db=$VENDETTA_SERVICE_DB_URL own=$OWN node_env=$NODE_ENV"; sleep 600`,
        env: { OWN: 'mine' },
        dependsOn: [],
        restart: 'no',
      },
      { name: 'crashy', command: 'echo boom >&2; exit 3', env: {}, dependsOn: [], restart: 'on-failure' },
    ];
    const spec: WorkspaceSpec = {
      ...(await helloSpec('misc')),
      services,
      hooks: { postStart: 'echo hook ran in $PWD' },
    };
    await createWith(spec);
    const followed: ServiceLogLine[] = [];
    agent.conn.onNotification(ServiceLogLines, (p) => {
      if (p.followToken === 'crashy-follow') followed.push(...p.lines);
    });
    await agent.conn.sendRequest(ServiceLogs, {
      workspace: 'misc',
      service: 'crashy',
      follow: true,
      followToken: 'crashy-follow',
    });
    await agent.conn.sendRequest(StartServices, { workspace: 'misc' });
    const s = await until('db unhealthy', 'misc', (x) => stateOf(x, 'db').state === 'unhealthy');
    assert.match(stateOf(s, 'db').lastCheck!.output, /nothing listens on port 7071/);
    const api = stateOf(await list('misc'), 'api');
    assert.equal(api.state, 'waiting');
    assert.match(api.reason!, /waiting for db \(unhealthy\)/);
    assert.ok(!(await logs('misc', 'api')).some((l) => /^starting/.test(l.line)), 'api was started');

    const shell = (await until('shell output', 'misc', () => true), await logs('misc', 'shell'))
      .filter((l) => l.stream === 'stdout')
      .map((l) => l.line);
    assert.deepEqual(shell.slice(0, 3), ['a', '/root', 'db=tcp://127.0.0.1:7071 own=mine node_env=development']);
    const inContainer = await new DockerProvider(dockerd!.engine).exec('vendetta-misc', ['cat', marker], {});
    assert.equal(inContainer.stdout, 'b\n', 'the redirect ran inside the workspace');
    assert.equal(existsSync(marker), false, 'the command ran on the host');
    assert.ok((await logs('misc', 'postStart')).some((l) => l.line === 'hook ran in /workspaces/misc'));

    const crashed = await until('crash loop', 'misc', (x) => stateOf(x, 'crashy').state === 'crashloop', 40_000);
    assert.equal(stateOf(crashed, 'crashy').restarts, 5);
    const delays = (await logs('misc', 'crashy'))
      .flatMap((l) => /^restarting in (\d+) ms/.exec(l.line)?.[1] ?? [])
      .map(Number);
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000]);
    assert.ok(followed.filter((l) => l.line === 'boom').length >= 6, `followed ${followed.length} lines`);
    assert.deepEqual(await agent.conn.sendRequest(UnfollowLogs, { followToken: 'crashy-follow' }), {
      stopped: true,
    });
  });

  it('leaves nothing running after remove', async () => {
    await agent.conn.sendRequest(RemoveWorkspace, { name: 'misc', force: true });
    await agent.conn.sendRequest(StartServices, { workspace: 'hello' });
    await agent.conn.sendRequest(RemoveWorkspace, { name: 'hello', force: true });
    const left = await dockerd!.engine.json({
      method: 'GET',
      path: '/containers/json',
      query: { all: 1 },
      accept: [200],
      what: 'list',
    });
    assert.deepEqual(left.value, []);
    assert.equal(existsSync(join(home!.home, 'workspaces/hello')), false);
    const last = changes.filter((c) => c.workspace === 'hello').pop()!;
    assert.ok(
      last.services.every((x) => x.state === 'stopped'),
      JSON.stringify(last.services),
    );
  });
});
