import assert from 'node:assert/strict';
import type { ServiceSpec } from '../../../../agent/protocol';
import { discoveryEnv, envName, serviceEnv, serviceUrl } from '../../../../agent/services/env';
import {
  blockingDependency,
  depths,
  stopWaves,
  waitingReason,
  withDependencies,
} from '../../../../agent/services/graph';
import { parseProcNetTcp, reachability } from '../../../../agent/services/listeners';
import { commandArgv, newRunId, parsePidLine, sweepArgv, wrappedArgv } from '../../../../agent/services/processControl';
import { parseRelayLine, relayArgv } from '../../../../agent/services/relay';
import { RestartTracker, wantsRestart } from '../../../../agent/services/restartPolicy';
import { svc } from './fakeWorkspace';

describe('agent services: discovery env', () => {
  const services: ServiceSpec[] = [
    svc('db', 'x', {
      port: 7070,
      healthcheck: { kind: 'tcp', port: 7070, intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 },
    }),
    svc('my-api', 'x', { port: 3000, env: { OWN: 'api', SHARED: 'service' } }),
    svc('worker', 'x'),
  ];

  it('names NAME upper-cased with - as _, for every service with a port', () => {
    assert.equal(envName('my-api'), 'MY_API');
    assert.deepEqual(discoveryEnv(services), {
      VENDETTA_SERVICE_DB_URL: 'tcp://127.0.0.1:7070',
      VENDETTA_SERVICE_DB_HOST: '127.0.0.1',
      VENDETTA_SERVICE_DB_PORT: '7070',
      VENDETTA_SERVICE_MY_API_URL: 'http://127.0.0.1:3000',
      VENDETTA_SERVICE_MY_API_HOST: '127.0.0.1',
      VENDETTA_SERVICE_MY_API_PORT: '3000',
    });
    assert.equal(serviceUrl(services[2]!), undefined);
  });

  it('layers workspace env, discovery env, the service env, then the run marker', () => {
    const env = serviceEnv(
      { SHARED: 'workspace', NODE_ENV: 'dev', VENDETTA_SERVICE_DB_PORT: 'overridden?' },
      services,
      services[1]!,
      'vs1.0123456789abcdef',
    );
    assert.equal(env.SHARED, 'service');
    assert.equal(env.NODE_ENV, 'dev');
    assert.equal(env.OWN, 'api');
    assert.equal(env.VENDETTA_SERVICE_DB_PORT, '7070', 'discovery wins over the workspace env');
    assert.equal(env.VENDETTA_SERVICE_RUN, 'vs1.0123456789abcdef');
  });
});

describe('agent services: dependency order', () => {
  const services = [
    svc('db', 'x'),
    svc('cache', 'x'),
    svc('api', 'x', { dependsOn: ['db', 'cache'] }),
    svc('web', 'x', { dependsOn: ['api'] }),
    svc('cron', 'x', { dependsOn: ['db'] }),
  ];
  const states: Record<string, string> = { db: 'healthy', cache: 'unhealthy' };

  it('names the first dependency that is not healthy', () => {
    assert.equal(
      blockingDependency(services[0]!, () => undefined),
      undefined,
    );
    const block = blockingDependency(services[2]!, (n) => states[n] as never);
    assert.deepEqual(block, { name: 'cache', state: 'unhealthy' });
    assert.equal(waitingReason(block!), 'waiting for cache (unhealthy)');
    assert.deepEqual(
      blockingDependency(services[3]!, () => undefined),
      { name: 'api', state: 'unknown' },
    );
  });

  it('stops dependants first, each wave in parallel', () => {
    assert.deepEqual(Object.fromEntries(depths(services)), { db: 0, cache: 0, api: 1, web: 2, cron: 1 });
    assert.deepEqual(stopWaves(services), [['web'], ['api', 'cron'], ['db', 'cache']]);
  });

  it('survives a cycle and unknown names', () => {
    const odd = [svc('a', 'x', { dependsOn: ['b'] }), svc('b', 'x', { dependsOn: ['a', 'ghost'] })];
    assert.equal(stopWaves(odd).flat().sort().join(), 'a,b');
  });

  it('brings up a service with everything it depends on', () => {
    assert.deepEqual([...withDependencies(services, 'web')].sort(), ['api', 'cache', 'db', 'web']);
    assert.deepEqual([...withDependencies(services, 'nope')], []);
  });
});

describe('agent services: restart policy and backoff', () => {
  it('restarts per policy', () => {
    assert.equal(wantsRestart('no', 1), false);
    assert.equal(wantsRestart('on-failure', 0), false);
    assert.equal(wantsRestart('on-failure', 2), true);
    assert.equal(wantsRestart('on-failure', null), true);
    assert.equal(wantsRestart('always', 0), true);
  });

  it('doubles the delay up to the cap, then calls a crash loop past the restart cap', () => {
    const t = new RestartTracker({ baseMs: 100, maxMs: 500, maxRestarts: 5, windowMs: 10_000 });
    const delays = [0, 1, 2, 3, 4].map((i) => t.next(1000 + i));
    assert.deepEqual(
      delays.map((d) => (d.action === 'restart' ? d.delayMs : -1)),
      [100, 200, 400, 500, 500],
    );
    assert.deepEqual(t.next(1010), { action: 'crashloop', restarts: 5 });
  });

  it('forgets restarts outside the window, and on reset', () => {
    const t = new RestartTracker({ baseMs: 100, maxMs: 10_000, maxRestarts: 2, windowMs: 1000 });
    t.next(0);
    t.next(10);
    assert.equal(t.next(20).action, 'crashloop');
    assert.deepEqual(t.next(2000), { action: 'restart', delayMs: 100, attempt: 1 });
    t.next(2001);
    t.reset();
    assert.equal(t.next(2002).action, 'restart');
  });
});

describe('agent services: listeners in /proc/net/tcp', () => {
  const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1B9E 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 100 0 0 10 0
   2: 0200000A:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0
   3: 0100007F:1B9E 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 20 4 30 10 -1
  0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  0 0 5 1 0 100 0 0 10 0
  1: 0000000000000000FFFF00000100007F:2328 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  0 0 6 1 0 100 0 0 10 0
  2: 00000000000000000000000000000000:2710 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  0 0 7 1 0 100 0 0 10 0`;

  it('finds listening sockets and their scope; connections are not listeners', () => {
    assert.deepEqual(parseProcNetTcp(tcp), [
      { port: 7070, scope: 'loopback' },
      { port: 22, scope: 'any' },
      { port: 3000, scope: 'other' },
      { port: 8080, scope: 'loopback' },
      { port: 9000, scope: 'loopback' },
      { port: 10000, scope: 'any' },
    ]);
  });

  it('tells loopback-only listeners from published ones', () => {
    const ls = parseProcNetTcp(tcp);
    assert.equal(reachability(ls, 7070), 'loopback');
    assert.equal(reachability(ls, 22), 'published');
    assert.equal(reachability(ls, 3000), 'published');
    assert.equal(reachability(ls, 5432), 'none');
  });
});

describe('agent services: process control argv', () => {
  it('passes the command as arguments of a fixed wrapper, a string through /bin/sh -c as written', () => {
    const cmd = 'echo a; echo b > /tmp/x && echo $HOME';
    assert.deepEqual(commandArgv(cmd), ['/bin/sh', '-c', cmd]);
    assert.deepEqual(commandArgv(['node', 'x.js']), ['node', 'x.js']);
    const w = wrappedArgv(cmd);
    assert.deepEqual(w.slice(3), ['vendetta-service', '/bin/sh', '-c', cmd]);
    assert.equal(w[2]!.includes(cmd), false, 'the command is never spliced into the wrapper');
  });

  it('reads the pid line and makes fixed-shape run ids', () => {
    assert.equal(parsePidLine('vendetta-pid 42'), 42);
    assert.equal(parsePidLine('vendetta-pid x'), undefined);
    assert.equal(parsePidLine('hello'), undefined);
    const a = newRunId();
    assert.match(a, /^vs1\.[0-9a-f]{16}$/);
    assert.notEqual(a, newRunId());
    assert.deepEqual(sweepArgv('TERM', a).slice(3), ['vendetta-sweep', 'TERM', a]);
  });

  it('gives the relay its script and ports as arguments, and reads its events', () => {
    const argv = relayArgv([3000, 8080]);
    assert.deepEqual(argv.slice(0, 2), ['/bin/sh', '-c']);
    assert.deepEqual(argv.slice(-2), ['3000', '8080']);
    assert.deepEqual(parseRelayLine('relaying 3000'), { kind: 'relaying', port: 3000 });
    assert.deepEqual(parseRelayLine('released 3000'), { kind: 'released', port: 3000 });
    assert.deepEqual(parseRelayLine('error 3000 listen EADDRINUSE'), {
      kind: 'error',
      port: 3000,
      message: 'listen EADDRINUSE',
    });
    assert.equal(parseRelayLine('hello'), undefined);
  });
});
