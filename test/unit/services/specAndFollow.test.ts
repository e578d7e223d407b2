import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { NotificationType } from 'vscode-jsonrpc';
import type { ClientHandle } from '../../../coordinator/daemon/handlerTable';
import { nullLogger } from '../../../coordinator/log';
import type { AgentClient, Disposable, LinkState } from '../../../coordinator/nodes/agentClient';
import { LogFollows } from '../../../coordinator/services/logFollows';
import { buildSpec, loadProject } from '../../../coordinator/workspaces/project';
import { servicesSettled, settleBudgetMs } from '../../../coordinator/workspaces/upServices';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';

const REPO = join(__dirname, '..', '..', '..');

describe('the services the agent is asked to run', () => {
  it('examples/hello: db, api, web in start order with their checks, ports, restart policies; no hooks', async () => {
    const { config } = await loadProject(join(REPO, 'examples', 'hello'));
    const spec = buildSpec(config, {}, 'ssh-ed25519 AAAA');
    assert.deepEqual(spec.services, [
      {
        name: 'db',
        command: 'node services/db.mjs',
        env: {},
        dependsOn: [],
        restart: 'on-failure',
        port: 7070,
        healthcheck: { kind: 'tcp', port: 7070, intervalMs: 500, timeoutMs: 1000, retries: 20, startPeriodMs: 0 },
      },
      {
        name: 'api',
        command: 'node services/api.mjs',
        env: {},
        dependsOn: ['db'],
        restart: 'on-failure',
        port: 3000,
        healthcheck: {
          kind: 'http',
          url: 'http://localhost:3000/health',
          intervalMs: 1000,
          timeoutMs: 2000,
          retries: 15,
          startPeriodMs: 1000,
        },
      },
      {
        name: 'web',
        command: 'node services/web.mjs',
        env: {},
        dependsOn: ['api'],
        restart: 'always',
        port: 8080,
        healthcheck: {
          kind: 'http',
          url: 'http://localhost:8080/',
          intervalMs: 1000,
          timeoutMs: 2000,
          retries: 15,
          startPeriodMs: 0,
        },
      },
    ]);
    assert.equal(spec.hooks, undefined);
  });

  it('hooks, argv commands and command checks are carried as written, and the spec owns its arrays', () => {
    const argv = ['sh', '-c', 'echo "$HOME" ; true'];
    const config = {
      name: 'x',
      provider: 'docker' as const,
      node: 'local',
      docker: { image: 'i' },
      lxc: { image: 'l' },
      qemu: { image: 'q', cpus: 1, memoryBytes: 1, diskBytes: 1, accel: 'auto' as const },
      env: {},
      forwardPorts: [],
      portsAttributes: [],
      workspaceFolder: '/workspaces/x',
      forwardAgent: false,
      hooks: { postCreate: './setup.sh', postStart: ['echo', 'hi'] },
      services: [
        {
          name: 'job',
          command: argv,
          env: { A: '1' },
          dependsOn: [],
          restart: 'no' as const,
          reload: 'on-sync' as const,
          healthcheck: {
            kind: 'command' as const,
            command: argv,
            intervalMs: 1,
            timeoutMs: 2,
            retries: 3,
            startPeriodMs: 4,
          },
        },
      ],
    };
    const spec = buildSpec(config, {}, 'k');
    assert.deepEqual(spec.hooks, { postCreate: './setup.sh', postStart: ['echo', 'hi'] });
    assert.deepEqual(spec.services?.[0], {
      name: 'job',
      command: argv,
      env: { A: '1' },
      dependsOn: [],
      restart: 'no',
      healthcheck: { kind: 'command', command: argv, intervalMs: 1, timeoutMs: 2, retries: 3, startPeriodMs: 4 },
    });
    assert.notEqual(spec.services?.[0]?.command, argv);
    assert.equal(buildSpec({ ...config, services: [], hooks: {} }, {}, 'k').services, undefined);
    assert.equal('forwardAgent' in spec, false, 'the sshd refuses the agent unless the config opts in');
    assert.equal(buildSpec({ ...config, forwardAgent: true }, {}, 'k').forwardAgent, true);
    // The idle timeout: the config's, else the node's default (nodes.yaml), else none.
    assert.equal('idleTimeoutMs' in spec, false);
    assert.equal(buildSpec(config, { nodeIdleTimeoutMs: 3_600_000 }, 'k').idleTimeoutMs, 3_600_000);
    assert.equal(
      buildSpec({ ...config, idleTimeoutMs: 60_000 }, { nodeIdleTimeoutMs: 3_600_000 }, 'k').idleTimeoutMs,
      60_000,
    );
  });

  it('up waits until every service is healthy or stuck, within what the checks allow', () => {
    const s = (name: string, state: string) => ({ name, state, restarts: 0 }) as never;
    assert.equal(servicesSettled([s('db', 'healthy'), s('api', 'starting')]), false);
    assert.equal(servicesSettled([s('db', 'healthy'), s('api', 'healthy')]), true);
    assert.equal(
      servicesSettled([s('db', 'healthy'), s('cron', 'running')]),
      true,
      'running without a check is as ready as it gets',
    );
    assert.equal(
      servicesSettled([s('db', 'unhealthy'), s('api', 'waiting')]),
      true,
      'waiting behind a bad one is stuck',
    );
    assert.equal(servicesSettled([s('db', 'healthy'), s('api', 'waiting')]), false);
    assert.equal(servicesSettled([s('db', 'restarting')]), false);
    const hc = { kind: 'tcp' as const, port: 1, intervalMs: 1000, timeoutMs: 1000, retries: 20, startPeriodMs: 5000 };
    assert.equal(
      settleBudgetMs([{ name: 'a', command: 'x', env: {}, dependsOn: [], restart: 'no', healthcheck: hc }]),
      47_000,
    );
    assert.equal(settleBudgetMs([]), 30_000);
  });
});

/** Just enough of an agent link for follows: requests recorded, notifications and state changes sent by the test. */
class FollowAgent {
  state: LinkState = 'online';
  readonly nodeName = 'n1';
  readonly requests: Array<{ method: string; params: Record<string, unknown> }> = [];
  answer: unknown[] = [];
  /** Runs while a services/readLogs request is in flight, before its answer (a line sent both ways). */
  duringLogs: (() => void) | undefined;
  private readonly notes = new Map<string, Set<(p: unknown) => void>>();
  private readonly states = new Set<(s: LinkState) => void>();
  request(type: { method: string }, params: Record<string, unknown>): Promise<unknown> {
    this.requests.push({ method: type.method, params });
    if (type.method === 'services/readLogs') this.duringLogs?.();
    return Promise.resolve(type.method === 'services/readLogs' ? { lines: this.answer } : { stopped: true });
  }
  onNotification<P>(type: NotificationType<P>, h: (p: P) => void): Disposable {
    const set = this.notes.get(type.method) ?? new Set();
    this.notes.set(type.method, set);
    set.add(h as (p: unknown) => void);
    return { dispose: () => set.delete(h as (p: unknown) => void) };
  }
  onStateChange(l: (s: LinkState) => void): Disposable {
    this.states.add(l);
    return { dispose: () => this.states.delete(l) };
  }
  emit(method: string, p: unknown): void {
    for (const h of this.notes.get(method) ?? []) h(p);
  }
  setState(s: LinkState): void {
    this.state = s;
    for (const l of [...this.states]) l(s);
  }
}

describe('a followed log across a node link that drops and comes back', () => {
  it('asks again from the last line passed on and does not send a line twice', async () => {
    const agent = new FollowAgent();
    const gone = new CancellationTokenSource();
    const sent: string[] = [];
    const client: ClientHandle = {
      id: 7,
      initialized: undefined,
      gone: gone.token,
      notify: (_t, p) => sent.push(...(p as { lines: Array<{ line: string }> }).lines.map((l) => l.line)),
    };
    const follows = new LogFollows(nullLogger);
    const l = (time: string, line: string) => ({ time, service: 'db', stream: 'stdout', line });
    agent.answer = [l('2024-01-01T00:00:01.000Z', 'a')];
    const first = await follows.start(
      agent as unknown as AgentClient,
      'n1',
      { workspace: 'w', tail: 10 },
      client,
      'tok',
    );
    assert.deepEqual(
      first.map((x) => x.line),
      ['a'],
    );
    const agentToken = agent.requests[0]!.params.followToken as string;
    agent.emit('services/didLog', {
      followToken: agentToken,
      lines: [l('2024-01-01T00:00:02.000Z', 'b'), l('2024-01-01T00:00:02.000Z', 'c')],
    });
    agent.emit('services/didLog', { followToken: agentToken, lines: [{ bad: true }] });
    assert.deepEqual(sent, ['b', 'c']);

    agent.setState('offline');
    agent.answer = [
      l('2024-01-01T00:00:02.000Z', 'b'),
      l('2024-01-01T00:00:02.000Z', 'c'),
      l('2024-01-01T00:00:02.000Z', 'd'),
      l('2024-01-01T00:00:03.000Z', 'e'),
    ];
    agent.setState('online');
    await new Promise((r) => setImmediate(r));
    const again = agent.requests[1]!;
    assert.equal(again.method, 'services/readLogs');
    assert.deepEqual(
      [again.params.since, again.params.tail, again.params.follow, again.params.followToken],
      ['2024-01-01T00:00:02.000Z', undefined, true, agentToken],
    );
    assert.deepEqual(sent, ['b', 'c', 'd', 'e']);

    gone.cancel();
    await new Promise((r) => setImmediate(r));
    assert.equal(follows.size, 0);
    assert.deepEqual(agent.requests.at(-1), { method: 'services/unfollow', params: { followToken: agentToken } });
    const other: ClientHandle = { ...client, id: 8, gone: new CancellationTokenSource().token };
    await follows.start(agent as unknown as AgentClient, 'n1', { workspace: 'w' }, other, 'tok');
    await assert.rejects(
      follows.start(agent as unknown as AgentClient, 'n1', { workspace: 'w' }, other, 'tok'),
      /already follows/,
    );
    follows.endWorkspace('n1', 'w');
    assert.equal(follows.size, 0);
  });

  it('a line the node sends both in the answer and as a notification is passed on once, after the answer', async () => {
    const agent = new FollowAgent();
    const sent: string[] = [];
    const client: ClientHandle = {
      id: 1,
      initialized: undefined,
      gone: new CancellationTokenSource().token,
      notify: (_t, p) => sent.push(...(p as { lines: Array<{ line: string }> }).lines.map((l) => l.line)),
    };
    const follows = new LogFollows(nullLogger);
    const l = (time: string, line: string) => ({ time, service: 'db', stream: 'stdout', line });
    agent.answer = [l('2024-01-01T00:00:01.000Z', 'a'), l('2024-01-01T00:00:02.000Z', 'b')];
    agent.duringLogs = () => {
      const token = agent.requests.at(-1)!.params.followToken as string;
      agent.emit('services/didLog', {
        followToken: token,
        lines: [l('2024-01-01T00:00:02.000Z', 'b'), l('2024-01-01T00:00:03.000Z', 'c')],
      });
    };
    const first = await follows.start(agent as unknown as AgentClient, 'n1', { workspace: 'w' }, client, 'tok');
    assert.deepEqual(
      first.map((x) => x.line),
      ['a', 'b'],
    );
    assert.deepEqual(sent, [], 'held until the answer went out');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, ['c']);
    follows.close();
  });
});
