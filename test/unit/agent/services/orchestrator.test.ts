import assert from 'node:assert/strict';
import type { FeatureHooks, HookRun, ServiceSpec, WorkspaceHooksSpec } from '../../../../agent/protocol';
import { hookSteps } from '../../../../agent/services/hooks';
import { WorkspaceServices } from '../../../../agent/services/orchestrator';
import { FakeWorkspace, svc, until } from './fakeWorkspace';

const check = (
  command: string,
  over: Partial<{ retries: number; intervalMs: number; startPeriodMs: number }> = {},
) => ({ kind: 'command' as const, command, intervalMs: 20, timeoutMs: 500, retries: 2, startPeriodMs: 0, ...over });

function make(
  ws: FakeWorkspace,
  services: ServiceSpec[],
  opts: { hooks?: WorkspaceHooksSpec; featureHooks?: FeatureHooks[]; ports?: Record<string, number> } = {},
) {
  const host = ws.host(services, opts.ports);
  let postCreate: HookRun | undefined;
  const orch = new WorkspaceServices({
    workspace: 'w',
    services,
    ...(opts.hooks || opts.featureHooks ? { hooks: hookSteps(opts.hooks, opts.featureHooks) } : {}),
    host,
    postCreateDone: () => postCreate !== undefined,
    markPostCreateDone: (r) => (postCreate = r),
  });
  const state = (name: string) => orch.status().services.find((s) => s.name === name)!;
  return { orch, host, state };
}

describe('agent services: a workspace orchestrator', () => {
  const live: WorkspaceServices[] = [];
  afterEach(async () => {
    for (const o of live.splice(0)) await o.stop();
  });

  it('starts a dependant only once its dependency is healthy, and independent services at once', async () => {
    const ws = new FakeWorkspace();
    let dbHealthy = false;
    const services = [
      svc('db', 'run', { healthcheck: check('dbcheck', { retries: 1000 }) }),
      svc('api', 'run', { dependsOn: ['db'] }),
      svc('cron', 'run'),
    ];
    const orig = ws.exec.bind(ws);
    ws.exec = (argv, opts) =>
      argv[2] === 'dbcheck' ? orig(['/bin/sh', '-c', dbHealthy ? 'ok' : 'fail'], opts) : orig(argv, opts);
    const { orch, state } = make(ws, services);
    live.push(orch);
    await orch.start();
    await until('db and cron running', () => ws.running('run').length === 2);
    assert.equal(state('api').state, 'waiting');
    assert.equal(state('api').reason, 'waiting for db (starting)');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(ws.running('run').length, 2, 'api started before db was healthy');
    await until(
      'cron running (no check: running, never healthy, after the settle time)',
      () => state('cron').state === 'running',
    );
    dbHealthy = true;
    await until('api started', () => ws.running('run').length === 3);
    await until('db healthy, api and cron running', () =>
      orch.status().services.every((s) => s.state === (s.name === 'db' ? 'healthy' : 'running')),
    );
    assert.ok(state('api').pid! > 0, 'pid from the wrapper line');
    assert.deepEqual(ws.linesOf('db', 'system').slice(0, 2), ['starting: run', 'healthy']);
  });

  it('keeps dependants waiting, not started, while a dependency is unhealthy, with the last check output', async () => {
    const ws = new FakeWorkspace();
    const { orch, state } = make(ws, [
      svc('db', 'run', { healthcheck: check('fail') }),
      svc('api', 'run', { dependsOn: ['db'] }),
      svc('web', 'run', { dependsOn: ['api'] }),
    ]);
    live.push(orch);
    await orch.start();
    await until('db unhealthy', () => state('db').state === 'unhealthy');
    assert.equal(state('db').lastCheck?.ok, false);
    assert.equal(state('db').lastCheck?.output, 'fail');
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(state('api').state, 'waiting');
    assert.equal(state('api').reason, 'waiting for db (unhealthy)');
    assert.equal(state('web').reason, 'waiting for api (waiting)');
    assert.equal(ws.running('run').length, 1, 'only db runs');
    assert.ok(ws.linesOf('db', 'system').some((l) => /^unhealthy after 2 failed checks: fail$/.test(l)));
  });

  it('counts failures only after the start period', async () => {
    const ws = new FakeWorkspace();
    const { orch, state } = make(ws, [
      svc('db', 'run', { healthcheck: check('fail', { startPeriodMs: 150, retries: 1 }) }),
    ]);
    live.push(orch);
    const t0 = Date.now();
    await orch.start();
    await until('db unhealthy', () => state('db').state === 'unhealthy');
    assert.ok(Date.now() - t0 >= 140, `unhealthy after ${Date.now() - t0} ms, inside the start period`);
  });

  it('restarts a service that needed SIGKILL even when its end is reported late (a slow VM)', async () => {
    const ws = new FakeWorkspace();
    const { orch, state } = make(ws, [svc('api', 'slowdeath')]);
    live.push(orch);
    await orch.start();
    await until('api running', () => state('api').state === 'running');
    await orch.start('api');
    await until(
      'api started again',
      () => ws.linesOf('api', 'system').filter((l) => l.startsWith('starting:')).length === 2,
    );
    await new Promise((r) => setTimeout(r, 700)); // the first run's late end arrives meanwhile
    await until('api running again', () => state('api').state === 'running');
    assert.equal(ws.running('slowdeath').length, 1, 'one api process');
  });

  it('restarts a crashing service with exponential backoff, then reports a crash loop', async () => {
    const ws = new FakeWorkspace();
    const { orch, state } = make(ws, [svc('crashy', 'crash 3', { restart: 'on-failure' })]);
    live.push(orch);
    await orch.start();
    await until('crash loop', () => state('crashy').state === 'crashloop');
    const s = state('crashy');
    assert.equal(s.restarts, 3);
    assert.equal(s.exitCode, 3);
    assert.match(s.reason!, /crash loop: exited 4 times/);
    const delays = ws
      .linesOf('crashy', 'system')
      .flatMap((l) => /^restarting in (\d+) ms/.exec(l)?.[1] ?? [])
      .map(Number);
    assert.deepEqual(delays, [10, 20, 40]);
    assert.equal(ws.linesOf('crashy', 'stderr').filter((l) => l === 'boom').length, 4);
    // A new start forgives earlier crashes.
    await orch.start('crashy');
    await until('restarting again', () => state('crashy').state === 'restarting' || state('crashy').restarts > 0);
  });

  it('does not restart a service whose workspace is down (a VM whose process died): stopped, with why, until the next start', async () => {
    const ws = new FakeWorkspace();
    const { orch, state } = make(ws, [svc('web', 'crash 1', { restart: 'always' })]);
    live.push(orch);
    ws.downReason = 'the workspace is error (The QEMU process of the VM is gone)';
    await orch.start();
    await until('stopped', () => state('web').state === 'stopped');
    assert.equal(state('web').reason, ws.downReason);
    assert.equal(state('web').restarts, 0);
    assert.deepEqual(
      ws.linesOf('web', 'system').filter((l) => l.startsWith('restarting')),
      [],
      'no restart while the workspace is down',
    );
    assert.ok(ws.linesOf('web', 'system').includes(`not restarted: ${ws.downReason}`));
    // Back up: the next start runs it, and its policy holds again.
    ws.downReason = undefined;
    await orch.start();
    await until('restarting', () => state('web').restarts > 0);
  });

  it('does not restart a service whose policy says no, or a clean exit under on-failure', async () => {
    const ws = new FakeWorkspace();
    const { orch, state } = make(ws, [svc('once', 'crash 0', { restart: 'on-failure' }), svc('never', 'crash 2')]);
    live.push(orch);
    await orch.start();
    await until('both exited', () => state('once').state === 'exited' && state('never').state === 'exited');
    assert.equal(state('once').exitCode, 0);
    assert.equal(state('never').reason, 'exited with code 2');
    assert.equal(ws.procs.length, 2);
  });

  it('fails a command that cannot run (exit 127 or 126) at once, even under always, and a new start forgets the old exit', async () => {
    const ws = new FakeWorkspace();
    const { orch, state } = make(ws, [
      svc('typo', 'crash 127', { restart: 'always' }),
      svc('noexec', 'crash 126'),
      svc('after', 'run', { dependsOn: ['typo'] }),
    ]);
    live.push(orch);
    await orch.start();
    await until('both exited', () => state('typo').state === 'exited' && state('noexec').state === 'exited');
    assert.deepEqual(
      [state('typo').reason, state('noexec').reason],
      ['exited with code 127: command not found', 'exited with code 126: command not executable'],
    );
    assert.equal(ws.procs.length, 2, 'not retried');
    assert.equal(state('after').reason, 'waiting for typo (exited)');
    assert.ok(ws.linesOf('typo', 'system').includes('not restarted: command not found'));
    void orch.start();
    await until('waiting again', () => state('typo').state !== 'exited');
    assert.equal(state('typo').exitCode, undefined, "the last run's exit is not this run's");
  });

  it('restarts on any exit under always', async () => {
    const ws = new FakeWorkspace();
    const { orch, state } = make(ws, [svc('web', 'crash 0', { restart: 'always' })]);
    live.push(orch);
    await orch.start();
    await until('crash loop', () => state('web').state === 'crashloop');
    assert.equal(ws.procs.filter((p) => p.command === 'crash 0').length, 4);
  });

  it('stops in reverse dependency order: SIGTERM, then SIGKILL after the grace period', async () => {
    const ws = new FakeWorkspace();
    const { orch, state } = make(ws, [
      svc('db', 'stubborn'),
      svc('api', 'run', { dependsOn: ['db'] }),
      svc('web', 'run', { dependsOn: ['api'] }),
    ]);
    await orch.start();
    await until('all running', () => orch.status().services.every((s) => s.state === 'running'));
    const runIds = Object.fromEntries(
      orch.status().services.map((s) => [s.name, ws.procs.find((p) => p.pid === s.pid)!.runId]),
    );
    const t0 = Date.now();
    await orch.stop();
    assert.ok(orch.status().services.every((s) => s.state === 'stopped'));
    const terms = ws.sweeps
      .filter(([sig]) => sig === 'TERM')
      .map(([, id]) => Object.keys(runIds).find((k) => runIds[k] === id));
    assert.deepEqual(terms, ['web', 'api', 'db']);
    assert.ok(
      ws.sweeps.some(([sig, id]) => sig === 'KILL' && id === runIds.db),
      'db ignored SIGTERM and got SIGKILL',
    );
    assert.ok(Date.now() - t0 >= 100, 'the grace period was waited');
    assert.equal(ws.running().length, 0);
    assert.equal(state('db').exitCode, 137);
    assert.deepEqual(ws.linesOf('db', 'system').slice(-3), [
      'stopping (SIGTERM)',
      'still running after 100 ms: SIGKILL',
      'stopped (exit code 137)',
    ]);
  });

  it('runs postCreate once and postStart on every start, before the services, output in the logs', async () => {
    const ws = new FakeWorkspace();
    const { orch, state } = make(ws, [svc('app', 'run')], {
      hooks: { postCreate: 'echo created', postStart: 'echo started' },
    });
    live.push(orch);
    await orch.start();
    assert.equal(state('app').state, 'waiting');
    assert.match(state('app').reason!, /postCreate and postStart hook/);
    await until('app running', () => state('app').state === 'running');
    await orch.start();
    await until('app running again', () => state('app').state === 'running');
    assert.deepEqual(ws.linesOf('postCreate', 'stdout'), ['created']);
    assert.deepEqual(ws.linesOf('postStart', 'stdout'), ['started', 'started']);
    assert.equal(orch.status().hooks.postStart?.state, 'succeeded');
    const hookExec = ws.execs.find((e) => e.argv[2] === 'echo created')!;
    assert.equal(hookExec.opts.user, 'dev');
    assert.equal(hookExec.opts.workingDir, '/workspaces/x');
  });

  it("runs the lifecycle hooks in the spec's order, the create ones once, named commands at the same time", async () => {
    const ws = new FakeWorkspace();
    const hooks: WorkspaceHooksSpec = {
      postAttach: 'echo attached',
      postStart: ['echo', 'start'],
      postCreate: 'echo post',
      updateContent: { a: 'echo update-a', b: 'echo update-b' },
      onCreate: 'echo create',
    };
    const { orch, state } = make(ws, [svc('app', 'run')], { hooks });
    live.push(orch);
    await orch.start();
    assert.match(state('app').reason!, /waiting for the onCreate and updateContent and postCreate and postStart hook/);
    await until('app running', () => state('app').state === 'running');
    const order = () => ws.lines.filter((l) => l.stream === 'stdout').map((l) => `${l.service} ${l.line}`);
    assert.deepEqual(order(), [
      'onCreate create',
      'updateContent a: update-a',
      'updateContent b: update-b',
      'postCreate post',
      'postStart start',
    ]);
    assert.deepEqual(ws.linesOf('updateContent', 'system').slice(0, 2), [
      'a: running: echo update-a',
      'b: running: echo update-b',
    ]);
    await orch.start();
    await until('app running again', () => state('app').state === 'running');
    assert.deepEqual(order().slice(5), ['postStart start'], 'only postStart runs on a second start');
    assert.equal(orch.attached(), true);
    await until('postAttach ran', () => orch.status().hooks.postAttach?.state === 'succeeded');
    assert.deepEqual(ws.linesOf('postAttach', 'stdout'), ['attached']);
  });

  it('stops at a failed hook, names the command that failed, and runs the create hooks again next time', async () => {
    const ws = new FakeWorkspace();
    const { orch, state } = make(ws, [svc('app', 'run')], {
      hooks: { onCreate: { fine: 'echo ok', broken: 'crash 3' }, postCreate: 'echo post', postStart: 'echo start' },
    });
    live.push(orch);
    await orch.start();
    await until('app running', () => state('app').state === 'running');
    const run = orch.status().hooks.onCreate!;
    assert.equal(run.state, 'failed');
    assert.equal(run.exitCode, 3);
    assert.equal(run.failed, 'broken: crash 3');
    assert.equal(orch.status().hooks.postCreate, undefined, 'postCreate did not run after onCreate failed');
    assert.equal(orch.status().hooks.postStart, undefined);
    assert.deepEqual(ws.linesOf('onCreate', 'stderr'), ['broken: boom']);
    assert.equal(ws.linesOf('onCreate', 'system').at(-1), 'failed (exit code 3) in broken');
    await orch.start();
    await until('onCreate ran again', () => ws.linesOf('onCreate', 'stderr').length === 2);
  });

  it("runs each feature's lifecycle commands before the project's of the same kind, in install order, in every form", async () => {
    const ws = new FakeWorkspace();
    const featureHooks: FeatureHooks[] = [
      { feature: 'r/first:1', hooks: { onCreate: 'echo first-create', postStart: ['echo', 'first-start'] } },
      {
        feature: './second',
        hooks: { onCreate: { x: 'echo second-x', y: ['echo', 'second-y'] }, postAttach: 'echo second-attach' },
      },
    ];
    const { orch, state } = make(ws, [svc('app', 'run')], {
      hooks: { onCreate: 'echo own-create', postStart: 'echo own-start' },
      featureHooks,
    });
    live.push(orch);
    await orch.start();
    await until('app running', () => state('app').state === 'running');
    const order = () => ws.lines.filter((l) => l.stream === 'stdout').map((l) => `${l.service} ${l.line}`);
    const [firstCreate, x, y, ownCreate, ...rest] = order();
    assert.deepEqual(
      [firstCreate, [x, y].sort(), ownCreate, rest],
      [
        'onCreate first-create',
        ['onCreate x: second-x', 'onCreate y: second-y'],
        'onCreate own-create',
        ['postStart first-start', 'postStart own-start'],
      ],
    );
    assert.ok(ws.linesOf('onCreate', 'system').includes("the feature ./second's command"));
    assert.equal(orch.attached(), true, "a feature's postAttach alone is one to run");
    await until('postAttach ran', () => orch.status().hooks.postAttach?.state === 'succeeded');
    assert.deepEqual(ws.linesOf('postAttach', 'stdout'), ['second-attach']);
  });

  it("stops at a feature's failed command, naming the feature; the project's own does not run", async () => {
    const ws = new FakeWorkspace();
    const { orch, state } = make(ws, [svc('app', 'run')], {
      hooks: { postCreate: 'echo own-post' },
      featureHooks: [{ feature: 'r/bad:1', hooks: { postCreate: 'crash 4' } }],
    });
    live.push(orch);
    await orch.start();
    await until('app running', () => state('app').state === 'running');
    const run = orch.status().hooks.postCreate!;
    assert.deepEqual([run.state, run.exitCode, run.failed], ['failed', 4, "the feature r/bad:1's crash 4"]);
    assert.deepEqual(ws.linesOf('postCreate', 'stdout'), [], "the project's postCreate did not run");
    assert.equal(ws.linesOf('postCreate', 'system').at(-1), 'failed (exit code 4) in the feature r/bad:1');
  });

  it('has no postAttach to run without one, and runs one at a time', async () => {
    const ws = new FakeWorkspace();
    const none = make(ws, [], {});
    assert.equal(none.orch.attached(), false);
    const { orch } = make(ws, [], { hooks: { postAttach: 'run' } });
    live.push(orch);
    assert.equal(orch.attached(), true);
    await until('postAttach running', () => ws.running('run').length === 1);
    assert.equal(orch.attached(), false, 'a second attach while one runs');
    await orch.stop();
    await until('postAttach ended by the stop', () => ws.running().length === 0);
  });

  it('ends a hook still running when the services are stopped; the services it held back stay stopped', async () => {
    const ws = new FakeWorkspace();
    const { orch, state } = make(ws, [svc('app', 'run')], { hooks: { postStart: 'run' } });
    await orch.start();
    await until('hook running', () => ws.running('run').length === 1);
    await orch.stop();
    await until('hook ended', () => ws.running().length === 0);
    await until('hook failed', () => orch.status().hooks.postStart?.state === 'failed');
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(state('app').state, 'stopped');
    assert.equal(ws.procs.length, 1, 'the service never started');
  });

  it('restarts just one named service, starting what it depends on', async () => {
    const ws = new FakeWorkspace();
    const { orch, state } = make(ws, [svc('db', 'run'), svc('api', 'run', { dependsOn: ['db'] }), svc('other', 'run')]);
    live.push(orch);
    await orch.start('api');
    await until('api running', () => state('api').state === 'running');
    assert.equal(state('other').state, 'stopped');
    const dbPid = state('db').pid;
    const apiPid = state('api').pid;
    await orch.start('api');
    await until('api running again', () => state('api').state === 'running' && state('api').pid !== apiPid);
    assert.equal(state('db').pid, dbPid, 'db kept running');
    await orch.stop('api');
    assert.equal(state('api').state, 'stopped');
    assert.equal(state('db').state, 'running');
  });

  it('starts the port relay with the services and stops it with them', async () => {
    const ws = new FakeWorkspace();
    const { orch } = make(ws, [svc('web', 'listen 8080', { port: 8080 }), svc('bg', 'run', { port: 9000 })], {
      ports: { '8080': 41000 },
    });
    await orch.start();
    await until('relay and web', () => ws.relayRuns === 1 && ws.running('listen 8080').length === 1);
    assert.equal(
      ws
        .running()
        .find((p) => p.command.includes('8080') && p.command !== 'listen 8080')
        ?.command.endsWith(' 8080'),
      true,
      'the relay gets the published ports only',
    );
    await orch.stop();
    await until('nothing left, relay included', () => ws.running().length === 0);
    assert.ok(ws.sweeps.some(([sig]) => sig === 'KILL'));
  });

  it('runs no relay for a provider whose published ports arrive at the workspace loopback', async () => {
    const ws = new FakeWorkspace();
    ws.relayNeeded = false;
    const { orch } = make(ws, [svc('web', 'listen 8080', { port: 8080 })], { ports: { '8080': 41000 } });
    await orch.start();
    await until('web', () => ws.running('listen 8080').length === 1);
    assert.equal(ws.relayRuns, 0);
    await orch.stop();
  });
});
