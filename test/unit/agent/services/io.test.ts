import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceLogLine } from '../../../../agent/protocol';
import { LogFollows } from '../../../../agent/services/follows';
import {
  clip,
  isHealthyStatus,
  nodeHttpGet,
  nodeTcpConnect,
  runCheck,
  type CheckDeps,
  type HttpTarget,
} from '../../../../agent/services/health';
import {
  LineSplitter,
  MAX_LINE_CHARS,
  parseLogText,
  selectLines,
  ServiceLogFiles,
} from '../../../../agent/services/logFiles';
import { takenNodePort } from '../../../../agent/providers/docker/parse';
import { choosePorts, chooseSshPort, nodePortProbe, portMap, type PortProbe } from '../../../../agent/services/ports';
import { newRunId, sweepArgv, wrappedArgv } from '../../../../agent/services/processControl';
import { readServicesRecord, servicesStateFile, writeServicesRecord } from '../../../../agent/services/state';

const line = (
  service: string,
  time: string,
  text: string,
  stream: ServiceLogLine['stream'] = 'stdout',
): ServiceLogLine => ({ service, time, stream, line: text });

describe('agent services: log files', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vendetta-svclogs-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('appends JSON lines per source and reads them back', () => {
    const f = new ServiceLogFiles(join(dir, 'logs'));
    f.append(line('db', '2026-01-01T00:00:00.000Z', 'one'));
    f.append(line('db', '2026-01-01T00:00:01.000Z', 'two', 'stderr'));
    f.append(line('postStart', '2026-01-01T00:00:02.000Z', 'hook', 'system'));
    assert.deepEqual(f.sources(), ['db', 'postStart']);
    assert.deepEqual(
      f.read('db').map((l) => [l.stream, l.line]),
      [
        ['stdout', 'one'],
        ['stderr', 'two'],
      ],
    );
    assert.deepEqual(JSON.parse(readFileSync(f.fileOf('db'), 'utf8').split('\n')[0]!), {
      time: '2026-01-01T00:00:00.000Z',
      stream: 'stdout',
      line: 'one',
    });
    assert.equal(statSync(f.fileOf('db')).mode & 0o777, 0o600);
    assert.deepEqual(new ServiceLogFiles(join(dir, 'none')).sources(), []);
  });

  it('rotates at the size cap, keeping one old file', () => {
    const f = new ServiceLogFiles(dir, 400);
    for (let i = 0; i < 30; i++) {
      f.append(line('api', new Date(1e12 + i).toISOString(), `line ${i}`));
      if (i % 7 === 0) f.flush(); // bursts of several lines, and single lines
    }
    f.flush();
    assert.ok(statSync(f.fileOf('api')).size <= 400);
    assert.ok(statSync(`${f.fileOf('api')}.1`).size <= 400);
    const kept = f.read('api').map((l) => Number(l.line.split(' ')[1]));
    assert.equal(kept[kept.length - 1], 29);
    assert.ok(kept.length < 30 && kept.length >= 6, `kept ${kept.length}`);
    assert.deepEqual(
      kept,
      [...kept].sort((a, b) => a - b),
      'old file first',
    );
  });

  it('writes a burst in the background, reports a failed write, and takes nothing after close', async () => {
    const errors: unknown[] = [];
    const blocked = join(dir, 'file');
    writeFileSync(blocked, 'not a folder');
    const bad = new ServiceLogFiles(join(blocked, 'logs'), undefined, (e) => errors.push(e));
    bad.append(line('db', 't', 'x'));
    const good = new ServiceLogFiles(join(dir, 'ok'));
    good.append(line('db', '2026-01-01T00:00:00.000Z', 'a'));
    await new Promise((r) => setImmediate(r));
    assert.equal(errors.length, 1);
    assert.equal(readFileSync(good.fileOf('db'), 'utf8').split('\n').length, 2, 'written without a read');
    good.append(line('db', '2026-01-01T00:00:01.000Z', 'b'));
    good.close();
    good.append(line('db', '2026-01-01T00:00:02.000Z', 'c'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      parseLogText(readFileSync(good.fileOf('db'), 'utf8'), 'db').map((l) => l.line),
      ['a', 'b'],
    );
  });

  it('skips torn lines', () => {
    assert.deepEqual(
      parseLogText(
        '{"time":"t","stream":"stdout","line":"ok"}\n{"time":\nnot json\n{"time":"t","stream":"bad","line":"x"}\n',
        'x',
      ),
      [line('x', 't', 'ok')],
    );
  });

  it('interleaves sources by time (stably), then applies since and tail', () => {
    const db = [
      line('db', '2026-01-01T00:00:00.000Z', 'd1'),
      line('db', '2026-01-01T00:00:02.000Z', 'd2'),
      line('db', '2026-01-01T00:00:02.000Z', 'd3'),
    ];
    const api = [line('api', '2026-01-01T00:00:01.000Z', 'a1'), line('api', '2026-01-01T00:00:02.000Z', 'a2')];
    assert.deepEqual(
      selectLines([db, api], {}).map((l) => l.line),
      ['d1', 'a1', 'd2', 'd3', 'a2'],
    );
    assert.deepEqual(
      selectLines([db, api], { tail: 2 }).map((l) => l.line),
      ['d3', 'a2'],
    );
    assert.deepEqual(
      selectLines([db, api], { since: '2026-01-01T00:00:01.000Z' }).map((l) => l.line),
      ['a1', 'd2', 'd3', 'a2'],
    );
    assert.deepEqual(
      selectLines([db, api], { since: '2026-01-01T00:00:01.500Z', tail: 1 }).map((l) => l.line),
      ['a2'],
    );
    assert.deepEqual(selectLines([db], { tail: 0 }), []);
  });

  it('splits output into lines: partial lines wait, CRLF is trimmed, long lines are cut', () => {
    const got: string[] = [];
    const s = new LineSplitter((l) => got.push(l));
    s.push('a\r\nb');
    assert.deepEqual(got, ['a']);
    s.push('c\n\nd');
    s.flush();
    s.flush();
    assert.deepEqual(got, ['a', 'bc', '', 'd']);
    got.length = 0;
    s.push('x'.repeat(MAX_LINE_CHARS * 2 + 5));
    assert.deepEqual(
      got.map((l) => l.length),
      [MAX_LINE_CHARS, MAX_LINE_CHARS],
    );
    s.push(`${'y'.repeat(MAX_LINE_CHARS)}\n`);
    assert.equal(got[2]!.length, MAX_LINE_CHARS);
  });
});

describe('agent services: log follows', () => {
  it('batches new lines per follower and selection, until removed', async () => {
    const f = new LogFollows();
    const all: ServiceLogLine[][] = [];
    const dbOnly: ServiceLogLine[][] = [];
    f.add('t1', 'w', undefined, (l) => all.push(l));
    f.add('t2', 'w', 'db', (l) => dbOnly.push(l));
    f.add('t3', 'other', undefined, () => assert.fail('another workspace'));
    f.publish('w', line('db', 't', '1'));
    f.publish('w', line('api', 't', '2'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      all.map((b) => b.map((l) => l.line)),
      [['1', '2']],
    );
    assert.deepEqual(
      dbOnly.map((b) => b.map((l) => l.line)),
      [['1']],
    );
    assert.equal(f.remove('t1'), true);
    assert.equal(f.remove('t1'), false);
    f.removeWorkspace('w');
    assert.equal(f.size, 1);
    f.publish('w', line('db', 't', '3'));
    await new Promise((r) => setImmediate(r));
    assert.equal(all.length + dbOnly.length, 2);
  });
});

describe('agent services: node ports', () => {
  const fake = (taken: number[], free: number[]): PortProbe => ({
    isFree: async (p) => !taken.includes(p),
    anyFree: async () => free.shift()!,
  });

  it('uses the service port when free, else another, and says which was taken', async () => {
    const c = await choosePorts([7070, 3000, 3000], {}, fake([7070], [41000]));
    assert.deepEqual(c, [
      { guestPort: 7070, nodePort: 41000, preferredTaken: 7070 },
      { guestPort: 3000, nodePort: 3000 },
    ]);
    assert.deepEqual(portMap(c), { '7070': 41000, '3000': 3000 });
  });

  it('keeps a remembered port, and never hands out one port twice', async () => {
    assert.deepEqual(await choosePorts([8080], { '8080': 45000 }, fake([], [])), [
      { guestPort: 8080, nodePort: 45000 },
    ]);
    const c = await choosePorts([1, 2], { '1': 5000, '2': 5000 }, fake([], [5000, 5001]));
    assert.deepEqual(
      c.map((x) => x.nodePort),
      [5000, 5001],
    );
  });

  it("gives the SSH server its remembered port while free and no service's, else a free one no service has", async () => {
    const services = [{ guestPort: 3000, nodePort: 41000 }];
    assert.equal(await chooseSshPort(45022, services, fake([], [])), 45022);
    assert.equal(await chooseSshPort(45022, services, fake([45022], [41000, 45023])), 45023);
    assert.equal(await chooseSshPort(41000, services, fake([], [45024])), 45024);
    assert.equal(await chooseSshPort(undefined, services, fake([], [45025])), 45025);
  });

  it("finds the taken node port in Docker's refusal to start", () => {
    assert.equal(
      takenNodePort(
        'Docker could not start the container x: driver failed programming external connectivity on endpoint vendetta-hello (abc): Error starting userland proxy: listen tcp4 127.0.0.1:8080: bind: address already in use',
      ),
      8080,
    );
    assert.equal(takenNodePort('Bind for 127.0.0.1:7070 failed: port is already allocated'), 7070);
    assert.equal(takenNodePort('no such image 127.0.0.1:22'), undefined);
  });

  it('asks the real network stack', async () => {
    const srv: Server = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    try {
      assert.equal(await nodePortProbe.isFree(port), false);
      const free = await nodePortProbe.anyFree();
      assert.ok(free > 0 && free !== port);
      assert.equal(await nodePortProbe.isFree(free), true);
    } finally {
      srv.close();
    }
  });
});

/** A throwaway self-signed certificate, as a development service would have (openssl, on every node). */
function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vendetta-cert-'));
  try {
    const r = spawnSync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-days',
      '1',
      '-keyout',
      join(dir, 'k'),
      '-out',
      join(dir, 'c'),
    ]);
    assert.equal(r.status, 0, r.stderr.toString());
    return { key: readFileSync(join(dir, 'k'), 'utf8'), cert: readFileSync(join(dir, 'c'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('agent services: health checks', () => {
  const deps = (over: Partial<CheckDeps>): CheckDeps => ({
    exec: async () => ({ exitCode: 0, stdout: '', stderr: '' }),
    nodePortOf: () => undefined,
    workspaceAddress: async () => undefined,
    httpGet: async () => 200,
    tcpConnect: async () => undefined,
    ...over,
  });
  const timing = { intervalMs: 10, timeoutMs: 1000, retries: 1, startPeriodMs: 0 };

  it('command: exit 0 is healthy; the output is kept', async () => {
    const argvs: string[][] = [];
    const ok = await runCheck(
      { kind: 'command', command: 'pg_isready', ...timing },
      deps({ exec: async (a) => (argvs.push(a), { exitCode: 0, stdout: 'accepting\n', stderr: '' }) }),
    );
    assert.deepEqual(ok, { ok: true, output: 'accepting' });
    assert.deepEqual(argvs[0], ['/bin/sh', '-c', 'pg_isready']);
    const bad = await runCheck(
      { kind: 'command', command: ['false'], ...timing },
      deps({ exec: async () => ({ exitCode: 1, stdout: '', stderr: '' }) }),
    );
    assert.deepEqual(bad, { ok: false, output: 'exit code 1' });
    const thrown = await runCheck(
      { kind: 'command', command: 'x', ...timing },
      deps({ exec: async () => Promise.reject(new Error('container stopped')) }),
    );
    assert.deepEqual(thrown, { ok: false, output: 'container stopped' });
  });

  it('tcp: a connect from the node to the workspace address, with nothing run inside', async () => {
    const seen: string[] = [];
    const d = deps({
      workspaceAddress: async () => '10.81.1.2',
      tcpConnect: async (h, p) => void seen.push(`${h}:${p}`),
      exec: async () => assert.fail('nothing runs inside'),
    });
    assert.deepEqual(await runCheck({ kind: 'tcp', port: 7070, ...timing }, d), {
      ok: true,
      output: 'port 7070 accepts connections',
    });
    assert.deepEqual(seen, ['10.81.1.2:7070']);
  });

  it('tcp: a refused connect asks the workspace kernel, where a loopback-only listener counts', async () => {
    const tcp = '  sl\n   0: 0100007F:1B9E 00000000:0000 0A 0 0 0\n';
    const d = deps({
      workspaceAddress: async () => '10.81.1.2',
      tcpConnect: async () => Promise.reject(new Error('connect ECONNREFUSED')),
      exec: async () => ({ exitCode: 0, stdout: tcp, stderr: '' }),
    });
    assert.deepEqual(await runCheck({ kind: 'tcp', port: 7070, ...timing }, d), {
      ok: true,
      output: 'port 7070 is listening',
    });
    assert.deepEqual(await runCheck({ kind: 'tcp', port: 7071, ...timing }, d), {
      ok: false,
      output: 'nothing listens on port 7071',
    });
    // An image without `cat`: the node-side failure is what the user sees.
    const bare = deps({
      workspaceAddress: async () => '10.81.1.2',
      tcpConnect: async () => Promise.reject(new Error('connect ECONNREFUSED')),
      exec: async () => ({ exitCode: 127, stdout: '', stderr: 'not found' }),
    });
    assert.deepEqual(await runCheck({ kind: 'tcp', port: 7071, ...timing }, bare), {
      ok: false,
      output: 'nothing accepts connections on port 7071 (connect ECONNREFUSED)',
    });
    const gone = deps({ exec: async () => Promise.reject(new Error('container stopped')) });
    assert.deepEqual(await runCheck({ kind: 'tcp', port: 1, ...timing }, gone), {
      ok: false,
      output: 'nothing listens on port 1 (the workspace has no address on the node)',
    });
  });

  it('http: through the node port for a published localhost URL, 2xx/3xx healthy', async () => {
    const seen: HttpTarget[] = [];
    const d = deps({ nodePortOf: (p) => (p === 3000 ? 41000 : undefined), httpGet: async (t) => (seen.push(t), 302) });
    assert.deepEqual(await runCheck({ kind: 'http', url: 'http://localhost:3000/health?x=1', ...timing }, d), {
      ok: true,
      output: 'HTTP 302 from http://localhost:3000/health?x=1',
    });
    assert.deepEqual(seen, [
      { host: '127.0.0.1', port: 41000, path: '/health?x=1', hostHeader: 'localhost:3000', tls: false },
    ]);
    assert.equal(
      (
        await runCheck(
          { kind: 'http', url: 'http://127.0.0.1:3000/', ...timing },
          deps({ nodePortOf: () => 1, httpGet: async () => 503 }),
        )
      ).ok,
      false,
    );
    assert.equal(isHealthyStatus(399), true);
    assert.equal(isHealthyStatus(400), false);
    assert.equal(isHealthyStatus(199), false);
  });

  it('http: to the workspace address when the port is not published, as given otherwise; never inside', async () => {
    const seen: HttpTarget[] = [];
    const d = deps({
      workspaceAddress: async () => '10.81.1.2',
      httpGet: async (t) => (seen.push(t), 204),
      exec: async () => assert.fail('nothing runs inside'),
    });
    assert.deepEqual(await runCheck({ kind: 'http', url: 'https://[::1]:9443/x', ...timing }, d), {
      ok: true,
      output: 'HTTP 204 from https://[::1]:9443/x',
    });
    assert.deepEqual(await runCheck({ kind: 'http', url: 'http://other-host:9000/x', ...timing }, d), {
      ok: true,
      output: 'HTTP 204 from http://other-host:9000/x',
    });
    assert.deepEqual(seen, [
      { host: '10.81.1.2', port: 9443, path: '/x', hostHeader: '[::1]:9443', tls: true },
      { host: 'other-host', port: 9000, path: '/x', hostHeader: 'other-host:9000', tls: false },
    ]);
    const nowhere = await runCheck({ kind: 'http', url: 'http://localhost/', ...timing }, deps({}));
    assert.deepEqual(nowhere, {
      ok: false,
      output:
        'http://localhost/ is not reachable from the node: the workspace has no address there and port 80 is not published',
    });
    const refused = await runCheck(
      { kind: 'http', url: 'http://localhost:1/', ...timing },
      deps({ workspaceAddress: async () => '127.0.0.1', httpGet: nodeHttpGet }),
    );
    assert.equal(refused.ok, false);
    assert.match(refused.output, /ECONNREFUSED/);
  });

  it('the node-side GET and connect talk to real servers (http, https with a self-signed certificate, tcp)', async () => {
    const srv = createHttpServer((q, s) => s.writeHead(q.headers.host === 'svc:1' ? 418 : 500).end());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    const tlsSrv = createHttpsServer(selfSignedCert(), (_q, s) => s.writeHead(204).end());
    await new Promise<void>((r) => tlsSrv.listen(0, '127.0.0.1', r));
    const tlsPort = (tlsSrv.address() as { port: number }).port;
    try {
      assert.equal(
        await nodeHttpGet({ host: '127.0.0.1', port, path: '/', hostHeader: 'svc:1', tls: false }, 1000),
        418,
      );
      assert.equal(
        await nodeHttpGet({ host: '127.0.0.1', port: tlsPort, path: '/', hostHeader: 'localhost', tls: true }, 1000),
        204,
      );
      await assert.rejects(nodeHttpGet({ host: '127.0.0.1', port: 1, path: '/', hostHeader: 'x', tls: false }, 1000));
      await nodeTcpConnect('127.0.0.1', port, 1000);
      await assert.rejects(nodeTcpConnect('127.0.0.1', 1, 1000), /ECONNREFUSED/);
    } finally {
      srv.close();
      tlsSrv.close();
    }
  });

  it('a tcp check closes politely: a service that answers at once meets no reset', async () => {
    const { createServer } = await import('node:net');
    const errors: string[] = [];
    const closed: Promise<void>[] = [];
    const srv = createServer((s) => {
      closed.push(new Promise((r) => s.once('close', () => r())));
      s.on('error', (e) => errors.push(e.message));
      s.end('x'.repeat(64 * 1024)); // answers at once, more than one segment
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      for (let i = 0; i < 20; i++) await nodeTcpConnect('127.0.0.1', (srv.address() as { port: number }).port, 1000);
      while (closed.length < 20) await new Promise((r) => setTimeout(r, 10));
      await Promise.all(closed);
      assert.deepEqual(errors, []);
    } finally {
      srv.close();
    }
  });

  it('clips long output to its end', () => {
    assert.equal(clip('  short \n'), 'short');
    const c = clip('x'.repeat(1000) + 'END');
    assert.ok(c.startsWith('…') && c.endsWith('END') && c.length === 501);
  });
});

describe('agent services: the wrapper and the sweep under a real /bin/sh', () => {
  it('the wrapper prints its pid, then becomes the command, which sees its arguments untouched', () => {
    const argv = wrappedArgv(['/bin/sh', '-c', 'echo "me=$$ arg=$1"', 'x', 'a b; $(rm -rf /)']);
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    const [first, second] = r.stdout.trim().split('\n');
    const pid = first!.replace('vendetta-pid ', '');
    assert.equal(second, `me=${pid} arg=a b; $(rm -rf /)`);
  });

  /** A PATH holding only `cat`: the sweep of a workspace without grep (its fallback, a cat per process). */
  function pathWithoutGrep(): string {
    const dir = mkdtempSync(join(tmpdir(), 'vendetta-nogrep-'));
    symlinkSync(execFileSync('sh', ['-c', 'command -v cat'], { encoding: 'utf8' }).trim(), join(dir, 'cat'));
    return dir;
  }

  for (const how of ['with grep', 'without grep'] as const)
    it(`signals every process carrying the run marker, children included, and nothing else (${how})`, async () => {
      const id = newRunId();
      const other = newRunId();
      const mine = spawn('/bin/sh', ['-c', 'sleep 30 & sleep 30 & wait'], {
        env: { ...process.env, VENDETTA_SERVICE_RUN: id },
        stdio: 'ignore',
      });
      const bystander = spawn('sleep', ['30'], {
        env: { ...process.env, VENDETTA_SERVICE_RUN: other },
        stdio: 'ignore',
      });
      const bin = how === 'without grep' ? pathWithoutGrep() : undefined;
      try {
        await new Promise((r) => setTimeout(r, 200));
        const argv = sweepArgv('TERM', id);
        const env = bin ? { ...process.env, PATH: bin } : process.env;
        const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env });
        assert.equal(r.stdout.trim(), '3', `the shell and its two sleeps: ${r.stderr}`);
        await new Promise<void>((res) =>
          mine.exitCode !== null || mine.signalCode !== null ? res() : mine.on('exit', () => res()),
        );
        assert.equal(bystander.exitCode, null);
        assert.equal(bystander.signalCode, null);
      } finally {
        mine.kill('SIGKILL');
        bystander.kill('SIGKILL');
        if (bin) rmSync(bin, { recursive: true, force: true });
      }
    });
});

describe('agent services: remembered state', () => {
  it('reads what was written, and a missing or damaged file as stopped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vendetta-svcstate-'));
    try {
      const file = servicesStateFile(dir);
      assert.deepEqual(readServicesRecord(file), { desired: 'stopped' });
      writeServicesRecord(file, { desired: 'running', postCreate: { state: 'succeeded', exitCode: 0, at: 't' } });
      assert.deepEqual(readServicesRecord(file), {
        desired: 'running',
        postCreate: { state: 'succeeded', exitCode: 0, at: 't' },
      });
      writeFileSync(file, '{');
      assert.deepEqual(readServicesRecord(file), { desired: 'stopped' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
