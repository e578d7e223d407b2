import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancellationToken } from 'vscode-jsonrpc';
import type { HandlerContext } from '../../../../agent/daemon/context';
import { AgentError } from '../../../../agent/errors';
import {
  listServices,
  readServiceLogs,
  resolveNodePort,
  startServices,
  unfollowLogs,
  stopServices,
} from '../../../../agent/handlers/services';
import { nullLogger } from '../../../../agent/log/logger';
import type { DockerWorkspaceSpec, ServiceLogLine, WorkspaceServicesStatus } from '../../../../agent/protocol';
import type { WorkspaceProvider } from '../../../../agent/providers/contract';
import { readServicesRecord, servicesStateFile } from '../../../../agent/services/state';
import { ServicesSupervisor, type ServiceTarget } from '../../../../agent/services/supervisor';
import { FAST, FakeWorkspace, svc, until } from './fakeWorkspace';

describe('agent services: the supervisor of every workspace', () => {
  let dir: string;
  let ws: FakeWorkspace;
  let target: ServiceTarget;
  let sup: ServicesSupervisor;
  const broadcasts: WorkspaceServicesStatus[] = [];

  const spec = (over: Partial<DockerWorkspaceSpec> = {}): DockerWorkspaceSpec => ({
    name: 'w',
    provider: 'docker',
    env: { NODE_ENV: 'dev' },
    user: 'root',
    workspaceFolder: '/workspaces/w',
    authorizedKeys: [],
    docker: { image: 'i' },
    services: [svc('db', 'run', { port: 7070 }), svc('api', 'run', { dependsOn: ['db'] })],
    hooks: { postCreate: 'echo made', postStart: 'echo up' },
    ...over,
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-sup-'));
    ws = new FakeWorkspace();
    broadcasts.length = 0;
    const provider = {
      exec: (_id: string, argv: string[], o: object) => ws.exec(argv, o),
    } as unknown as WorkspaceProvider;
    target = {
      spec: spec(),
      provider,
      providerId: 'c1',
      running: true,
      ports: { '7070': 47070 },
      published: { '22': 42222, '7070': 47070 },
      dir,
    };
    sup = new ServicesSupervisor({
      targets: {
        target: async (name) => {
          if (name !== 'w') throw new AgentError('WORKSPACE_NOT_FOUND', `There is no workspace ${name} on this node`);
          return target;
        },
        names: () => ['w'],
      },
      logger: nullLogger,
      broadcast: (s) => broadcasts.push(s),
      timing: FAST,
    });
  });
  afterEach(async () => {
    await sup.workspaceRemoving('w');
    rmSync(dir, { recursive: true, force: true });
  });

  const ctx = (notes: Array<[string, unknown]>, closers: Array<() => void>): HandlerContext => ({
    daemon: { services: sup } as never,
    session: { connectionId: 1, initialized: true },
    token: CancellationToken.None,
    signal: new AbortController().signal,
    notify: (type, p) => notes.push([type.method, p]),
    onConnectionClose: (l) => closers.push(l),
  });

  it('starts all, remembers that they should run, broadcasts each change, and keeps their logs', async () => {
    const c = ctx([], []);
    const first = await startServices.handle({ workspace: 'w' }, c);
    assert.deepEqual(
      first.services.map((s) => [s.name, s.port, s.nodePort]),
      [
        ['db', 7070, 47070],
        ['api', undefined, undefined],
      ],
    );
    await until('running', () => broadcasts.some((b) => b.services.every((s) => s.state === 'running')));
    assert.equal(readServicesRecord(servicesStateFile(dir)).desired, 'running');
    assert.equal(readServicesRecord(servicesStateFile(dir)).postCreate?.state, 'succeeded');
    const lines = (await readServiceLogs.handle({ workspace: 'w' }, c)).lines;
    assert.deepEqual(
      lines.filter((l) => l.stream === 'stdout').map((l) => `${l.service}:${l.line}`),
      ['postCreate:made', 'postStart:up'],
    );
    assert.deepEqual(
      (await readServiceLogs.handle({ workspace: 'w', service: 'db', tail: 1 }, c)).lines.map((l) => l.line),
      ['running (no health check)'],
    );
    const status = await listServices.handle({ workspace: 'w' }, c);
    assert.equal(status.hooks.postCreate?.state, 'succeeded');
    // A second start does not run postCreate again.
    await startServices.handle({ workspace: 'w' }, c);
    await until('healthy again', () => ws.running('run').length === 2);
    assert.equal(ws.execs.filter((e) => e.argv[2] === 'echo made').length, 1);
    assert.equal(ws.execs.filter((e) => e.argv[2] === 'echo up').length, 2);
    const stopped = await stopServices.handle({ workspace: 'w' }, c);
    assert.ok(stopped.services.every((s) => s.state === 'stopped'));
    assert.equal(readServicesRecord(servicesStateFile(dir)).desired, 'stopped');
  });

  it('follows new lines until unfollowed or the connection closes', async () => {
    const notes: Array<[string, unknown]> = [];
    const closers: Array<() => void> = [];
    const c = ctx(notes, closers);
    await readServiceLogs.handle({ workspace: 'w', service: 'db', follow: true, followToken: 'f1' }, c);
    await readServiceLogs.handle({ workspace: 'w', follow: true, followToken: 'f2' }, c);
    await startServices.handle({ workspace: 'w', service: 'db' }, c);
    await until('lines', () => notes.length >= 2);
    const f1 = notes
      .filter(([, p]) => (p as { followToken: string }).followToken === 'f1')
      .flatMap(([m, p]) => (assert.equal(m, 'services/didLog'), (p as { lines: ServiceLogLine[] }).lines));
    assert.ok(f1.length > 0 && f1.every((l) => l.service === 'db'));
    assert.deepEqual(await unfollowLogs.handle({ followToken: 'f1' }, c), { stopped: true });
    assert.equal(sup.follows.size, 1);
    for (const close of closers) close();
    assert.equal(sup.follows.size, 0);
    await assert.rejects(
      readServiceLogs.handle(
        { workspace: 'w', follow: true, followToken: 'x' },
        { ...c, notify: undefined },
      ) as Promise<unknown>,
      /follow needs a connection/,
    );
  });

  it('refuses unknown services, stopped workspaces and unknown workspaces', async () => {
    await assert.rejects(
      sup.start('w', 'nope'),
      (e: AgentError) => e.code === 'INVALID_PARAMS' && /Its services: db, api/.test(e.hint ?? ''),
    );
    await assert.rejects(sup.list('zz'), (e: AgentError) => e.code === 'WORKSPACE_NOT_FOUND');
    target = { ...target, running: false };
    await assert.rejects(sup.start('w'), (e: AgentError) => e.code === 'WORKSPACE_NOT_RUNNING');
    target = { ...target, spec: spec({ services: [] }) };
    await assert.rejects(
      sup.stop('w', 'db'),
      (e: AgentError) => /has no service db/.test(e.message) && /no services/.test(e.hint ?? ''),
    );
  });

  it("answers the node port of a workspace port from the provider's mapping now, and refuses when it is not running or not mapped", async () => {
    const c = ctx([], []);
    assert.deepEqual(await resolveNodePort.handle(resolveNodePort.validate({ workspace: 'w', port: 7070 }), c), {
      nodePort: 47070,
    });
    target = { ...target, published: { '7070': 50000 } };
    assert.deepEqual(
      await sup.nodePort('w', 7070),
      { nodePort: 50000 },
      "the provider's mapping, not the remembered one",
    );
    await assert.rejects(
      sup.nodePort('w', 8080),
      (e: AgentError) =>
        e.code === 'PROVIDER_ERROR' && /publishes no node port for port 8080 of workspace w/.test(e.message),
    );
    target = { ...target, running: false, published: {} };
    await assert.rejects(
      sup.nodePort('w', 7070),
      (e: AgentError) =>
        e.code === 'WORKSPACE_NOT_RUNNING' &&
        /w is not running, so its port 7070 is not published/.test(e.message) &&
        /workspace start w/.test(e.hint ?? ''),
    );
    await assert.rejects(sup.nodePort('zz', 7070), (e: AgentError) => e.code === 'WORKSPACE_NOT_FOUND');
    for (const bad of [
      { workspace: 'w' },
      { workspace: 'w', port: 0 },
      { workspace: 'w', port: '80' },
      { workspace: 'W!', port: 80 },
    ]) {
      assert.throws(
        () => resolveNodePort.validate(bad),
        (e: AgentError) => e.code === 'INVALID_PARAMS',
        JSON.stringify(bad),
      );
    }
  });

  it('stops the old runs when the workspace comes back with another config', async () => {
    await sup.start('w');
    await until('running', () => ws.running('run').length === 2);
    target = { ...target, spec: spec({ services: [svc('solo', 'run')], hooks: {} }) };
    const s = await sup.start('w');
    assert.deepEqual(
      s.services.map((x) => x.name),
      ['solo'],
    );
    await until('only solo', () => ws.running('run').length === 1);
  });

  it('stops services before its workspace stops, and they stay stopped', async () => {
    await sup.start('w');
    await until('running', () => ws.running('run').length === 2);
    await sup.workspaceStopping('w');
    assert.equal(ws.running('run').length, 0);
    assert.equal(readServicesRecord(servicesStateFile(dir)).desired, 'stopped');
    await sup.workspaceStopping('unknown');
  });

  it('after an agent restart sweeps every old run and starts the services again, without hooks', async () => {
    await sup.start('w');
    await until('running', () => ws.running('run').length === 2);
    const old = ws.running('run');
    // A new daemon: a new supervisor over the same workspace.
    const again = new ServicesSupervisor({
      targets: { target: async () => target, names: () => ['w'] },
      logger: nullLogger,
      broadcast: () => undefined,
      timing: FAST,
    });
    await again.resume();
    assert.ok(ws.sweeps.some(([sig, id]) => sig === 'KILL' && id === 'vs1.'));
    await until('restarted', () => ws.running('run').length === 2 && old.every((p) => p.exited));
    assert.equal(ws.execs.filter((e) => e.argv[2] === 'echo up').length, 1, 'postStart not run again');
    assert.ok(
      (await again.logs({ workspace: 'w', service: 'api' })).some(
        (l) => l.line === 'the agent restarted: starting the service again',
      ),
    );
    await again.workspaceRemoving('w');
    // Nothing to resume when they were stopped, or the workspace is down.
    ws.sweeps.length = 0;
    await again.stop('w');
    await again.resume();
    assert.equal(ws.sweeps.length, 0);
  });

  it('writes a system line when a service port could not keep its number on the node', async () => {
    sup.portsChosen('w', dir, spec(), [
      { guestPort: 7070, nodePort: 40001, preferredTaken: 7070 },
      { guestPort: 1, nodePort: 1 },
    ]);
    const lines = await sup.logs({ workspace: 'w', service: 'db' });
    assert.deepEqual(
      lines.map((l) => [l.stream, l.line]),
      [['system', 'port 7070 is taken on the node; port 7070 is published on 127.0.0.1:40001 instead']],
    );
  });
});
