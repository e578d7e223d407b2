import assert from 'node:assert/strict';
import { closestMatch, editDistance, hasErrors, validateWorkspaceConfigText } from '../../../coordinator/config';

const check = (text: string) => validateWorkspaceConfigText(text, 'c.yaml');
const messages = (text: string) => check(text).diagnostics.map((d) => `${d.line}:${d.col} ${d.severity} ${d.message}`);

describe('workspace config checks beyond the schema', () => {
  it('names a dependency cycle from the service that comes first in the file', () => {
    const text = 'name: x\nservices:\n  web: {command: a, depends_on: [api]}\n  api: {command: b, depends_on: [web]}\n';
    assert.deepEqual(
      messages(text).filter((m) => m.includes('cycle')),
      ['3:34 error dependency cycle: web -> api -> web'],
    );
  });

  it('reports each of two separate cycles once', () => {
    const text = [
      'name: x',
      'services:',
      '  a: {command: x, depends_on: [b]}',
      '  b: {command: x, depends_on: [a]}',
      '  c: {command: x, depends_on: [d, a]}',
      '  d: {command: x, depends_on: [c]}',
      '',
    ].join('\n');
    const cycles = check(text)
      .diagnostics.filter((d) => d.code === 'dependency-cycle')
      .map((d) => d.message);
    assert.deepEqual(cycles, ['dependency cycle: a -> b -> a', 'dependency cycle: c -> d -> c']);
  });

  it('accepts a diamond of dependencies (no cycle)', () => {
    const text =
      'name: x\nservices:\n  db: {command: x}\n  a: {command: x, depends_on: [db]}\n  b: {command: x, depends_on: [db]}\n  web: {command: x, depends_on: [a, b]}\n';
    assert.deepEqual(check(text).diagnostics, []);
  });

  it('suggests the closest service for an unknown dependency, and none when nothing is close', () => {
    const near = check('name: x\nservices:\n  postgres: {command: x}\n  api: {command: y, depends_on: [postgre]}\n')
      .diagnostics[0];
    assert.equal(near?.code, 'depends-on-unknown');
    assert.match(near?.message ?? '', /did you mean `postgres`\?/);
    assert.deepEqual(near?.fix, { replacement: 'postgres' });
    const far = check('name: x\nservices:\n  postgres: {command: x}\n  api: {command: y, depends_on: [zookeeper]}\n')
      .diagnostics[0];
    assert.equal(far?.code, 'depends-on-unknown');
    assert.doesNotMatch(far?.message ?? '', /did you mean/);
    assert.equal(far?.fix, undefined);
  });

  it('names both services that claim one port', () => {
    const d = check(
      'name: x\nservices:\n  a: {command: x, port: 80}\n  b: {command: x, port: 81}\n  c: {command: x, port: 80}\n',
    ).diagnostics;
    assert.deepEqual(
      d.map((x) => [x.code, x.line, x.message]),
      [['port-clash', 5, 'port 80 is used by both `a` and `c`']],
    );
  });

  it('accepts a healthcheck on a port another service publishes', () => {
    const text =
      'name: x\nservices:\n  db: {command: x, port: 5432}\n  migrate: {command: y, healthcheck: {tcp: 5432}}\n';
    assert.deepEqual(check(text).diagnostics, []);
  });

  it('checks only loopback http healthchecks against published ports', () => {
    const remote = 'name: x\nservices:\n  a: {command: x, healthcheck: {http: "http://example.com:9999/"}}\n';
    assert.deepEqual(check(remote).diagnostics, []);
    const implicitPort = 'name: x\nservices:\n  a: {command: x, healthcheck: {http: "http://localhost/health"}}\n';
    assert.deepEqual(check(implicitPort).diagnostics, []);
    const v6 = 'name: x\nservices:\n  a: {command: x, healthcheck: {http: "http://[::1]:7000/"}}\n';
    assert.deepEqual(
      check(v6).diagnostics.map((d) => d.code),
      ['healthcheck-port'],
    );
  });

  it('keeps a config whose only problems are unknown keys inside a block, and offers the fix', () => {
    const r = check('name: x\nservices:\n  a:\n    command: x\n    prot: 1\n');
    assert.equal(hasErrors(r.diagnostics), false);
    assert.ok(r.config);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.line, d.col, d.endCol, d.fix?.replacement]),
      [['warning', 'unknown-key', 5, 5, 9, 'port']],
    );
  });

  it('refuses an unknown top-level key, and checks its block as the key it most likely means', () => {
    const r = check('name: x\nprovder: lxd\n');
    assert.equal(r.config, undefined);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.line, d.col, d.fix?.replacement]),
      [
        ['error', 'unknown-key', 2, 1, 'provider'],
        ['error', 'schema', 2, 10, 'lxc'],
      ],
    );
    assert.match(r.diagnostics[0]!.hint ?? '', /reported as if it were `provider`/);
  });

  it('does not rename a misspelt key onto one that is also there', () => {
    const r = check('name: x\nenv: {A: "1"}\nenb: {"1B": 2}\n');
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.code, d.line]),
      [['error', 'unknown-key', 3]],
    );
  });

  it('accepts every provider this version runs, and checks lxc.config against its allow-list', () => {
    assert.deepEqual(check('name: x\nprovider: qemu\n').diagnostics, []);
    assert.deepEqual(
      check(
        'name: x\nprovider: lxc\nlxc: { image: debian/bookworm, profiles: [default], config: { security.nesting: "true" }, target: m2 }\n',
      ).diagnostics,
      [],
    );
    const bad = check('name: x\nprovider: lxc\nlxc: { config: { security.privileged: "true" } }\n').diagnostics;
    assert.equal(bad.length, 1, JSON.stringify(bad));
    assert.equal(bad[0]!.severity, 'error');
  });

  it('gives no did-you-mean for an unknown key unlike any known one', () => {
    const d = check('name: x\nzzzzzzzz: 1\n').diagnostics[0];
    assert.equal(d?.message, 'unknown key `zzzzzzzz`');
    assert.equal(d?.fix, undefined);
  });

  it('says which key holds an invalid service name, located on the key', () => {
    const d = check('name: x\nservices:\n  "../etc": {command: x}\n').diagnostics;
    assert.deepEqual(
      d.map((x) => [x.code, x.line, x.col, x.endCol]),
      [['bad-name', 3, 3, 11]],
    );
  });

  it('stops at YAML syntax errors instead of guessing at the rest', () => {
    const r = check('name: x\nservices:\n\tapi: {command: x, port: 99999}\n');
    assert.deepEqual(
      r.diagnostics.map((d) => d.code),
      ['yaml-syntax'],
    );
  });

  it('caps a flood of problems, keeping the errors', () => {
    const lines = ['name: x', 'services:'];
    for (let i = 0; i < 400; i++) lines.push(`  s${i}: {command: x, port: 7000, bogus${i}: 1}`);
    const r = check(lines.join('\n') + '\n');
    assert.equal(r.diagnostics.length, 200);
    assert.ok(r.diagnostics.every((d) => d.severity === 'error'));
  });
});

describe('did you mean', () => {
  it('counts a swapped pair of letters as one edit', () => {
    assert.equal(editDistance('depnedson', 'dependson'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  it('ignores case, - and _ when comparing', () => {
    assert.equal(closestMatch('DependsOn', ['depends_on', 'port']), 'depends_on');
    assert.equal(closestMatch('forward-ports', ['forwardPorts']), 'forwardPorts');
  });

  it('only suggests near misses', () => {
    assert.equal(closestMatch('imag', ['image', 'build']), 'image');
    assert.equal(closestMatch('x', ['image']), undefined);
    assert.equal(closestMatch('healthcheck', []), undefined);
    assert.equal(closestMatch('a'.repeat(5000), ['a']), undefined);
  });
});
