import assert from 'node:assert/strict';
import { AgentError } from '../../../../agent/errors';
import {
  validateLogsParams,
  validateServiceNameParams,
  validateUnfollowParams,
  validateWorkspaceOnly,
  validCommand,
  validHooks,
  validServices,
} from '../../../../agent/handlers/serviceParams';
import { validateCreateParams } from '../../../../agent/handlers/workspaceParams';
import { containerCreateBody } from '../../../../agent/providers/docker/api';

const m = 'workspaces/create';
const refuses = (fn: () => unknown, re: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof AgentError && e.code === 'INVALID_PARAMS' && re.test(e.message));
};
const timing = { intervalMs: 1000, timeoutMs: 1000, retries: 3, startPeriodMs: 0 };

describe('agent services: params at the boundary', () => {
  it('accepts services as the coordinator sends them, in start order', () => {
    const s = validServices(m, [
      {
        name: 'db',
        command: 'node db.mjs',
        port: 7070,
        env: { A: '1' },
        dependsOn: [],
        restart: 'no',
        healthcheck: { kind: 'tcp', port: 7070, ...timing },
      },
      {
        name: 'api',
        command: ['node', 'api.mjs'],
        port: 3000,
        env: {},
        dependsOn: ['db', 'db'],
        restart: 'on-failure',
        healthcheck: { kind: 'http', url: 'http://localhost:3000/health', ...timing },
      },
      {
        name: 'job',
        command: 'echo a; echo b > /tmp/x && echo $HOME',
        env: {},
        dependsOn: [],
        restart: 'always',
        healthcheck: { kind: 'command', command: ['true'], ...timing },
      },
    ]);
    assert.deepEqual(
      s.map((x) => [x.name, x.dependsOn, x.restart]),
      [
        ['db', [], 'no'],
        ['api', ['db'], 'on-failure'],
        ['job', [], 'always'],
      ],
    );
    assert.equal(s[2]!.command, 'echo a; echo b > /tmp/x && echo $HOME', 'commands are kept exactly as written');
  });

  it('refuses what cannot run', () => {
    const base = { name: 'a', command: 'x', env: {}, dependsOn: [], restart: 'no' };
    refuses(() => validServices(m, {}), /spec.services must be a list/);
    refuses(() => validServices(m, [{ ...base, name: 'Bad' }]), /name must be a unique name/);
    refuses(() => validServices(m, [base, base]), /name must be a unique name/);
    refuses(() => validServices(m, [{ ...base, command: '  ' }]), /command must be a non-empty command/);
    refuses(() => validServices(m, [{ ...base, command: [] }]), /command must be a string or a non-empty list/);
    refuses(() => validServices(m, [{ ...base, command: 'a\0b' }]), /without NUL/);
    refuses(() => validServices(m, [{ ...base, port: 70000 }]), /port must be a whole number from 1 to 65535/);
    refuses(
      () =>
        validServices(m, [
          { ...base, port: 80 },
          { ...base, name: 'b', port: 80 },
        ]),
      /port 80 is used by another service/,
    );
    refuses(
      () =>
        validServices(m, [
          { ...base, dependsOn: ['later'] },
          { ...base, name: 'later' },
        ]),
      /dependsOn must list services that come before a/,
    );
    refuses(
      () => validServices(m, [{ ...base, restart: 'sometimes' }]),
      /restart must be one of no, on-failure, always/,
    );
    refuses(() => validServices(m, [{ ...base, env: { 'BAD-NAME': 'x' } }]), /not a valid variable name/);
    refuses(() => validServices(m, [{ ...base, env: { A: 1 } }]), /must be a string without NUL/);
    refuses(() => validServices(m, [{ ...base, env: [] }]), /must be an object of strings/);
    refuses(
      () => validServices(m, [{ ...base, healthcheck: { kind: 'http', url: 'ftp://x', ...timing } }]),
      /http:\/\/ or https:\/\/ URL/,
    );
    refuses(() => validServices(m, [{ ...base, healthcheck: { kind: 'http', url: 'not a url', ...timing } }]), /URL/);
    refuses(
      () => validServices(m, [{ ...base, healthcheck: { kind: 'udp', ...timing } }]),
      /kind must be http, tcp or command/,
    );
    refuses(
      () => validServices(m, [{ ...base, healthcheck: { kind: 'tcp', port: 1, ...timing, retries: 0 } }]),
      /retries must be a whole number/,
    );
    refuses(() => validServices(m, [{ ...base, healthcheck: 'tcp' }]), /healthcheck must be an object/);
    refuses(() => validServices(m, ['x']), /must be an object/);
  });

  it('reads hooks, and services inside workspaces/create', () => {
    assert.deepEqual(validHooks(m, { postCreate: './setup.sh', postStart: ['echo', 'hi'] }), {
      postCreate: './setup.sh',
      postStart: ['echo', 'hi'],
    });
    refuses(() => validHooks(m, 'x'), /spec.hooks must be an object/);
    const every = {
      onCreate: 'a',
      updateContent: ['b'],
      postCreate: { one: 'c', two: ['d', 'e'] },
      postStart: 'f',
      postAttach: { x: 'g' },
    };
    assert.deepEqual(validHooks(m, { ...every, initialize: 'ignored: it runs where up runs' }), every);
    refuses(() => validHooks(m, { postCreate: {} }), /spec.hooks.postCreate must name 1 to 100 commands/);
    refuses(() => validHooks(m, { postCreate: { a: 42 } }), /spec.hooks.postCreate.a must be a string/);
    refuses(() => validHooks(m, { onCreate: { 'bad\nname': 'x' } }), /not a usable command name/);
    assert.deepEqual(validCommand(m, 'c', ['a', '']), ['a', '']);
    const spec = {
      name: 'w',
      provider: 'docker',
      docker: { image: 'img' },
      env: {},
      user: 'root',
      workspaceFolder: '/workspaces/w',
      authorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEaAlIAOWFiM2S5k6XtIb60EpQQNCjFD8D/C4tkrR5nY x'],
      services: [{ name: 'db', command: 'x', env: {}, dependsOn: [], restart: 'no' }],
      hooks: { postStart: 'y' },
    };
    const p = validateCreateParams({ spec });
    assert.equal(p.spec.services?.[0]?.name, 'db');
    assert.deepEqual(p.spec.hooks, { postStart: 'y' });
  });

  it('checks services/* requests', () => {
    assert.deepEqual(validateServiceNameParams('services/start')({ workspace: 'w', service: 'db' }), {
      workspace: 'w',
      service: 'db',
    });
    assert.deepEqual(validateServiceNameParams('services/start')({ workspace: 'w' }), { workspace: 'w' });
    refuses(
      () => validateServiceNameParams('services/start')({ workspace: 'w', service: 'postStart' }),
      /service must match/,
    );
    refuses(() => validateServiceNameParams('services/stop')(null), /expected an object/);
    refuses(() => validateWorkspaceOnly('services/list')({ workspace: '../x' }), /workspace must match/);
    assert.deepEqual(validateWorkspaceOnly('services/list')({ workspace: 'w', extra: 1 }), { workspace: 'w' });
    assert.deepEqual(
      validateLogsParams({
        workspace: 'w',
        service: 'postStart',
        tail: 5,
        since: '2026-01-01T00:00:00Z',
        follow: true,
        followToken: 't',
      }),
      {
        workspace: 'w',
        service: 'postStart',
        tail: 5,
        since: '2026-01-01T00:00:00Z',
        follow: true,
        followToken: 't',
      },
    );
    assert.deepEqual(validateLogsParams({ workspace: 'w', follow: false }), { workspace: 'w' });
    refuses(() => validateLogsParams({ workspace: 'w', follow: true }), /followToken/);
    refuses(() => validateLogsParams({ workspace: 'w', follow: 'yes' }), /follow must be true or false/);
    refuses(() => validateLogsParams({ workspace: 'w', since: 'yesterday' }), /since must be an ISO 8601 time/);
    refuses(() => validateLogsParams({ workspace: 'w', tail: -1 }), /tail must be a whole number/);
    assert.deepEqual(validateUnfollowParams({ followToken: 't' }), { followToken: 't' });
    refuses(() => validateUnfollowParams({}), /expected \{followToken\}/);
  });
});

describe('agent services: Docker port bindings', () => {
  it('publishes each service port on 127.0.0.1 at the chosen node port, beside SSH', () => {
    const body = containerCreateBody({
      spec: {
        name: 'w',
        provider: 'docker',
        docker: { image: 'img' },
        env: {},
        user: 'root',
        workspaceFolder: '/workspaces/w',
        authorizedKeys: [],
      },
      nodeFolder: '/n',
      labels: {},
      command: ['/usr/sbin/sshd'],
      sshNodePort: 41022,
      ports: [{ guestPort: 3000, nodePort: 41000 }],
    }) as { ExposedPorts: object; HostConfig: { PortBindings: object } };
    assert.deepEqual(body.ExposedPorts, { '22/tcp': {}, '3000/tcp': {} });
    assert.deepEqual(body.HostConfig.PortBindings, {
      '22/tcp': [{ HostIp: '127.0.0.1', HostPort: '41022' }],
      '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: '41000' }],
    });
  });
});
