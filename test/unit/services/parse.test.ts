import assert from 'node:assert/strict';
import {
  LogFormatter,
  formatPorts,
  formatServices,
  forwardLine,
  anyServiceFailed,
} from '../../../coordinator/cli/serviceOutput';
import { clockTime } from '../../../coordinator/timeText';
import { VendettaError } from '../../../coordinator/errors';
import { parsePortMapping, parseSince } from '../../../coordinator/services/parse';

const usage = (e: unknown) => e instanceof VendettaError && e.code === 'INVALID_PARAMS' && !!e.hint;

describe('what people type for forward and logs', () => {
  it('PORT[:LOCALPORT]: a port alone, or with the local port; anything else is a usage error with a hint', () => {
    assert.deepEqual(parsePortMapping('8080'), { port: 8080 });
    assert.deepEqual(parsePortMapping('8080:18080'), { port: 8080, localPort: 18080 });
    assert.deepEqual(parsePortMapping(' 1:65535 '), { port: 1, localPort: 65535 });
    assert.deepEqual(parsePortMapping('8080:0'), { port: 8080 }, ':0 is no preference, as leaving it out');
    for (const bad of [
      '',
      '0',
      '65536',
      '80:',
      ':80',
      '0:80',
      'http',
      '80:90:100',
      '-1',
      '8080.5',
      '1e3',
      '00000080808',
    ]) {
      assert.throws(() => parsePortMapping(bad), usage, bad);
    }
  });

  it('--since: a duration back from now, or an ISO time; garbage is a usage error', () => {
    const now = Date.parse('2024-05-01T12:00:00.000Z');
    assert.equal(parseSince('5m', now), '2024-05-01T11:55:00.000Z');
    assert.equal(parseSince('30s', now), '2024-05-01T11:59:30.000Z');
    assert.equal(parseSince('2h', now), '2024-05-01T10:00:00.000Z');
    assert.equal(parseSince('1d', now), '2024-04-30T12:00:00.000Z');
    assert.equal(parseSince('250ms', now), '2024-05-01T11:59:59.750Z');
    assert.equal(parseSince('2024-05-01T10:00:00Z', now), '2024-05-01T10:00:00.000Z');
    assert.equal(parseSince('2024-05-01T12:00:00+02:00', now), '2024-05-01T10:00:00.000Z');
    for (const bad of [
      '',
      '5',
      'm5',
      '5 minutes',
      '-5m',
      '1.5h',
      'yesterday',
      '2024-13-45T99:00:00Z',
      '5m; rm -rf /',
    ]) {
      assert.throws(() => parseSince(bad, now), usage, bad);
    }
  });
});

describe('how services, ports and log lines read on a terminal', () => {
  const tz = process.env.TZ;
  before(() => {
    process.env.TZ = 'UTC';
  });
  after(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  });

  it('log lines: `HH:MM:SS.mmm service | line`, labels aligned as longer names appear; one service: no label', () => {
    const f = new LogFormatter(true, ['db', 'api']);
    assert.equal(
      f.format({ time: '2024-05-01T09:08:07.006Z', service: 'db', stream: 'stdout', line: 'ready' }),
      '09:08:07.006 db  | ready',
    );
    assert.equal(
      f.format({ time: '2024-05-01T09:08:07.100Z', service: 'api', stream: 'stderr', line: 'listening\n' }),
      '09:08:07.100 api | listening',
    );
    assert.equal(
      f.format({ time: '2024-05-01T09:08:08.000Z', service: 'postStart', stream: 'system', line: 'done' }),
      '09:08:08.000 postStart | done',
    );
    assert.equal(
      f.format({ time: '2024-05-01T09:08:09.000Z', service: 'db', stream: 'stdout', line: 'x' }),
      '09:08:09.000 db        | x',
    );
    const one = new LogFormatter(false);
    assert.equal(
      one.format({ time: '2024-05-01T23:59:59.999Z', service: 'db', stream: 'stdout', line: 'only the line' }),
      '23:59:59.999 only the line',
    );
    assert.equal(clockTime('not a time'), '??:??:??.???');
  });

  it('ports: a table of each port, its source, label and state, and which URL is forwarded here and which is on the node', () => {
    const out = formatPorts([
      {
        source: 'service',
        service: 'web',
        port: 8080,
        nodePort: 41000,
        url: 'http://127.0.0.1:8080',
        health: 'healthy',
        localPort: 8080,
        label: 'Web page',
      },
      {
        source: 'service',
        service: 'api',
        port: 3000,
        nodePort: 41001,
        url: 'http://127.0.0.1:41001',
        health: 'starting',
      },
      { source: 'forwardPorts', port: 9229, listening: false },
      { source: 'detected', port: 5173, listening: true, loopbackOnly: true },
      { source: 'detected', port: 8765, listening: true, localPort: 8765, url: 'http://127.0.0.1:8765' },
    ]);
    assert.match(out, /^PORT +SOURCE +SERVICE +LABEL +STATE +NODE PORT +URL$/m);
    assert.match(out, /^8080 +service +web +Web page +healthy +41000 +http:\/\/127\.0\.0\.1:8080 \(forwarded\)$/m);
    assert.match(out, /^3000 +service +api +- +starting +41001 +http:\/\/127\.0\.0\.1:41001 \(on the node\)$/m);
    assert.match(out, /^9229 +forwardPorts +- +- +not listening +- +-$/m);
    assert.match(out, /^5173 +detected +- +- +listening \(127\.0\.0\.1 only\) +- +-$/m);
    assert.match(out, /^8765 +detected +- +- +listening +- +http:\/\/127\.0\.0\.1:8765 \(forwarded\)$/m);
    assert.equal(formatPorts([]), 'no ports: no service port, no forwardPorts, nothing listening\n');
  });

  it('services: state, ports, restarts and why; a failed one is named by its last check', () => {
    const services = [
      {
        name: 'db',
        state: 'unhealthy' as const,
        port: 7070,
        nodePort: 41002,
        restarts: 0,
        lastCheck: { at: '', ok: false, output: 'connect ECONNREFUSED\n127.0.0.1:7070' },
      },
      { name: 'api', state: 'waiting' as const, restarts: 0, reason: 'waiting for db (unhealthy)' },
    ];
    const out = formatServices(services);
    assert.match(out, /^db +unhealthy +7070 +41002 +0 +last check: connect ECONNREFUSED 127\.0\.0\.1:7070$/m);
    assert.match(out, /^api +waiting +- +- +0 +waiting for db \(unhealthy\)$/m);
    assert.equal(anyServiceFailed(services), true);
    assert.equal(anyServiceFailed([{ name: 'x', state: 'healthy', restarts: 0 }]), false);
    // The WHY of a stopped or restarted service never shows the stop's SIGTERM exit of an earlier run.
    const after = formatServices([
      { name: 'a', state: 'stopped', restarts: 0, exitCode: 143 },
      { name: 'b', state: 'running', restarts: 0, exitCode: 143 },
      { name: 'c', state: 'exited', restarts: 0, exitCode: 127, reason: 'exited with code 127: command not found' },
      { name: 'd', state: 'crashloop', restarts: 5, exitCode: 1 },
    ]);
    assert.match(after, /^a +stopped +- +- +0 +-$/m);
    assert.match(after, /^b +running +- +- +0 +-$/m);
    assert.match(after, /^c +exited +- +- +0 +exited with code 127: command not found$/m);
    assert.match(after, /^d +crashloop +- +- +5 +exit 1$/m);
    assert.equal(
      forwardLine({
        workspace: 'hello',
        node: 'local',
        port: 8080,
        nodePort: 41000,
        localPort: 18080,
        url: 'http://127.0.0.1:18080',
      }),
      'Forwarding http://127.0.0.1:18080 → hello:8080 (node local)',
    );
  });
});
