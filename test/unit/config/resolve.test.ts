import assert from 'node:assert/strict';
import { WORKSPACE_DEFAULTS, resolveWorkspaceConfig, validateWorkspaceConfigText } from '../../../coordinator/config';

function resolved(text: string) {
  const r = validateWorkspaceConfigText(text, 'c.yaml');
  assert.ok(r.config, JSON.stringify(r.diagnostics));
  return resolveWorkspaceConfig(r.config);
}

describe('resolved workspace config', () => {
  it('fills every default', () => {
    const c = resolved('name: tiny\n');
    assert.equal(c.provider, 'docker');
    assert.equal(c.node, 'local');
    assert.equal(c.docker.image, WORKSPACE_DEFAULTS.dockerImage);
    assert.equal(c.lxc.image, 'debian/bookworm');
    assert.deepEqual(c.qemu, {
      image: WORKSPACE_DEFAULTS.qemuImage,
      cpus: 2,
      memoryBytes: 2 * 1024 ** 3,
      diskBytes: 20 * 1024 ** 3,
      accel: 'auto',
      projectShare: 'auto',
    });
    assert.equal(c.workspaceFolder, '/workspaces/tiny');
    assert.deepEqual(c.services, []);
    assert.deepEqual(c.forwardPorts, []);
    assert.deepEqual(c.env, {});
    assert.equal(c.user, undefined);
    assert.equal(c.forwardAgent, false);
  });

  it('forwards the SSH agent only when the config opts in, and refuses what is not a boolean', () => {
    assert.equal(resolved('name: x\nforwardAgent: true\n').forwardAgent, true);
    assert.equal(resolved('name: x\nforwardAgent: false\n').forwardAgent, false);
    const bad = validateWorkspaceConfigText('name: x\nforwardAgent: "yes"\n', 'c.yaml');
    assert.equal(bad.config, undefined);
    assert.match(bad.diagnostics[0]?.message ?? '', /forwardAgent/);
  });

  it('an idleTimeout becomes milliseconds, off when absent; under a second or over 30 days is refused', () => {
    assert.equal(resolved('name: x\nidleTimeout: 30m\n').idleTimeoutMs, 1_800_000);
    assert.equal('idleTimeoutMs' in resolved('name: x\n'), false);
    for (const [text, why] of [
      ['500ms', /shorter than a second/],
      ['800h', /longer than 30 days/],
      ['soon', /idleTimeout/],
    ] as const) {
      const bad = validateWorkspaceConfigText(`name: x\nidleTimeout: ${text}\n`, 'c.yaml');
      assert.equal(bad.config, undefined, text);
      assert.match(bad.diagnostics.map((d) => d.message).join('\n'), why);
    }
  });

  it('orders services so each starts after its dependencies', () => {
    const c = resolved(
      [
        'name: x',
        'services:',
        '  web: {command: w, depends_on: [api]}',
        '  api: {command: a, depends_on: [db, cache]}',
        '  cache: {command: c}',
        '  db: {command: d}',
        '',
      ].join('\n'),
    );
    assert.deepEqual(
      c.services.map((s) => s.name),
      ['cache', 'db', 'api', 'web'],
    );
  });

  it('turns durations into milliseconds and picks the healthcheck kind', () => {
    const c = resolved(
      [
        'name: x',
        'services:',
        '  db: {command: d, port: 5432, healthcheck: {tcp: 5432, interval: 500ms, start_period: 1m}}',
        '  api: {command: a, port: 3000, healthcheck: {http: "http://localhost:3000/h", timeout: 3s, retries: 0}}',
        '  job: {command: j, healthcheck: {command: [test, -f, /tmp/ready]}, restart: "no"}',
        '',
      ].join('\n'),
    );
    const [db, api, job] = c.services;
    assert.deepEqual(db?.healthcheck, {
      kind: 'tcp',
      port: 5432,
      intervalMs: 500,
      timeoutMs: 2000,
      retries: 15,
      startPeriodMs: 60_000,
    });
    assert.deepEqual(api?.healthcheck, {
      kind: 'http',
      url: 'http://localhost:3000/h',
      intervalMs: 2000,
      timeoutMs: 3000,
      retries: 0,
      startPeriodMs: 0,
    });
    assert.deepEqual(job?.healthcheck?.kind, 'command');
    assert.equal(job?.restart, 'no');
    assert.equal(db?.restart, 'on-failure');
  });

  it('restarts a service on a sync that changed files unless it says reload: never', () => {
    const c = resolved('name: x\nservices:\n  api: {command: a}\n  vite: {command: v, reload: never}\n');
    assert.deepEqual(
      c.services.map((s) => [s.name, s.reload]),
      [
        ['api', 'on-sync'],
        ['vite', 'never'],
      ],
    );
  });

  it('gives environment values as strings', () => {
    const c = resolved('name: x\nenv: {A: 1, B: true, C: text}\nservices:\n  s: {command: x, env: {D: 2.5}}\n');
    assert.deepEqual(c.env, { A: '1', B: 'true', C: 'text' });
    assert.deepEqual(c.services[0]?.env, { D: '2.5' });
  });

  it('keeps sizes given in bytes and build settings', () => {
    const c = resolved('name: x\ndocker: {memory: 1048576, build: {dockerfile: dev.Dockerfile}}\n');
    assert.equal(c.docker.memoryBytes, 1048576);
    assert.deepEqual(c.docker.build, { context: '.', dockerfile: 'dev.Dockerfile' });
  });
});
