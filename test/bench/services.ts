/**
 * Issue-5 benchmarks: services, each beside a baseline measured in the same run.
 * - services-up-to-healthy: from the start of `up`'s services step until `up` returns with every
 *   service of examples/hello healthy (a fresh workspace each run, the local node), beside the sum
 *   of the services' own start times: each started by hand in the same workspace, in dependency
 *   order, timed from spawn until its own health check passes (polled every 10 ms). Target:
 *   ≤ 1.1× plus one check interval (1 s).
 * - services-forward: a forwarded port of a workspace on an SSH node (`workspace forward`, the
 *   coordinator's pooled link), beside `ssh -L` to the same node port: time to download 64 MiB
 *   (target 1.25×, i.e. throughput ≥ 0.8×) and the median request latency on a new connection each
 *   (target 1.2×).
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CoordinatorClient } from '../../coordinator/cli/client';
import { homePaths } from '../../coordinator/home';
import { StopServicesRequest, WorkspaceUp, type WorkspaceUpResult } from '../../coordinator/protocol';
import { createDockerNodes } from '../infra/dockerNode';
import { commandExists } from '../infra/sys';
import { createCliHome, REPO } from '../integration/coordinatorHarness';
import { startLive } from '../integration/servicesHarness';
import { createWorkspaceEnv } from '../integration/workspaceHarness';
import { median, result, type Benchmark } from './harness';

const HELLO = join(REPO, 'examples', 'hello');
const RUNS = 5;
const CHECK_INTERVAL_MS = 1000;

function needsRootDockerSsh(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (dockerd, network namespaces)';
  const missing = ['dockerd', 'docker', 'ssh', 'ip', 'nsenter'].filter((c) => !commandExists(c));
  return missing.length ? `needs ${missing.join(', ')} (test/infra/setup.sh installs them)` : undefined;
}

function must<T extends { code: number; stderr: string }>(r: T, what: string): T {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr}`);
  return r;
}

/**
 * Runs in the workspace: starts db, api and web one after the other as examples/hello's config
 * says, each timed from spawn until its health check passes; prints the times as JSON.
 */
const DIRECT_START = `
const { spawn } = require('child_process'); const net = require('net'); const http = require('http');
const tcp = (port) => new Promise((ok) => { const s = net.connect(port, '127.0.0.1'); s.on('connect', () => { s.destroy(); ok(true); }); s.on('error', () => ok(false)); });
const get = (url) => new Promise((ok) => { const r = http.get(url, (res) => { res.resume(); ok(res.statusCode >= 200 && res.statusCode < 400); }); r.on('error', () => ok(false)); r.setTimeout(2000, () => r.destroy()); });
const services = [['db', 'services/db.mjs', () => tcp(7070)], ['api', 'services/api.mjs', () => get('http://localhost:3000/health')], ['web', 'services/web.mjs', () => get('http://localhost:8080/')]];
(async () => {
  const out = {}; const kids = [];
  for (const [name, file, check] of services) {
    const t0 = process.hrtime.bigint();
    kids.push(spawn('node', [file], { stdio: 'ignore' }));
    while (!(await check())) await new Promise((r) => setTimeout(r, 10));
    out[name] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  for (const k of kids) k.kill('SIGTERM');
  process.stdout.write(JSON.stringify(out));
})();
`;

export const servicesUpToHealthy: Benchmark = {
  name: 'services-up-to-healthy',
  requires: needsRootDockerSsh,
  async run() {
    const env = await createWorkspaceEnv();
    // The coordinator must run inside the namespace (where the workspace's ports are): the CLI starts it there.
    must(await env.cli(['coordinator', 'start']), 'coordinator start');
    const c = await CoordinatorClient.connect({ paths: homePaths(env.h.home), autoStart: false });
    if (!c) throw new Error('the coordinator does not answer');
    try {
      const ours: number[] = [];
      const direct: number[] = [];
      let parts = '';
      for (let i = 0; i < RUNS; i++) {
        const name = `bench-svc-${i}`;
        const dir = join(env.h.dir, 'bench-projects', name);
        mkdirSync(join(env.h.dir, 'bench-projects'), { recursive: true });
        cpSync(HELLO, dir, { recursive: true });
        const token = `bench-${i}`;
        let servicesStep: bigint | undefined;
        c.onProgress(token, (p) => {
          if (servicesStep === undefined && /^Starting services/.test(p.message))
            servicesStep = process.hrtime.bigint();
        });
        const r: WorkspaceUpResult = await c.request(WorkspaceUp, { path: dir, name, progressToken: token });
        const done = process.hrtime.bigint();
        if (!r.services?.every((s) => s.state === 'healthy') || servicesStep === undefined)
          throw new Error(`up did not end healthy: ${JSON.stringify(r.services)}`);
        ours.push(Number(done - servicesStep) / 1e6);
        // The same services by hand in the same workspace, on the same ports (ours stopped first).
        await c.request(StopServicesRequest, { name });
        const timed = JSON.parse(
          must(
            await env.cli([
              'workspace',
              'exec',
              name,
              '--',
              'sh',
              '-c',
              `cd /workspaces/${name} && exec node -e "$0"`,
              DIRECT_START,
            ]),
            'direct start',
          ).stdout,
        ) as Record<string, number>;
        direct.push(Object.values(timed).reduce((a, b) => a + b, 0));
        parts = JSON.stringify(timed);
        must(await env.cli(['workspace', 'rm', name, '--force']), 'workspace rm');
      }
      const base = median(direct);
      process.stderr.write(
        `  services-up-to-healthy medians: ours ${median(ours).toFixed(0)} ms, direct ${base.toFixed(0)} ms (last run per service: ${parts})\n`,
      );
      return [
        result(
          'services-up-to-healthy',
          median(ours),
          'ms',
          'direct-start-sum-in-workspace',
          base,
          Math.round((1.1 + CHECK_INTERVAL_MS / base) * 1000) / 1000,
        ),
      ];
    } finally {
      c.dispose();
      await env.cleanup();
    }
  },
};

/** A service that answers `GET /` with a short body and `GET /bulk` with 64 MiB. */
const BULK_SERVICE = `
const http = require('http'); const chunk = Buffer.alloc(1 << 20, 120);
http.createServer((req, res) => {
  if (req.url === '/bulk') { res.writeHead(200, { 'content-length': String(64 * chunk.length) }); let n = 0; const more = () => { while (n < 64) { n++; if (!res.write(chunk)) return res.once('drain', more); } res.end(); }; return more(); }
  res.end('ok\\n');
}).listen(9090, '127.0.0.1');
`;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function fetchMs(url: string): Promise<{ ms: number; bytes: number }> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () =>
        res.statusCode === 200
          ? resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, bytes })
          : reject(new Error(`${url}: ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`${url}: timed out`)));
    req.end();
  });
}

async function waitAnswers(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await fetchMs(url);
      return;
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export const servicesForward: Benchmark = {
  name: 'services-forward',
  requires: needsRootDockerSsh,
  async run() {
    const net = await createDockerNodes({ count: 1, label: 'bench-fwd' });
    const h = createCliHome();
    const live: Array<{ stop(s?: NodeJS.Signals): Promise<number> }> = [];
    try {
      const node = net.nodes[0]!;
      must(
        await h.run([
          'node',
          'add',
          node.name,
          '--host',
          node.host,
          '--user',
          node.user,
          '--identity',
          node.identity,
          '--host-key-fingerprint',
          node.hostKeyFingerprint,
        ]),
        'node add',
      );
      const dir = join(h.dir, 'bulk');
      cpSync(HELLO, dir, { recursive: true });
      writeFileSync(join(dir, 'bulk.js'), BULK_SERVICE);
      const config = readFileSync(join(dir, '.vendetta', 'config.yaml'), 'utf8').replace(
        /^name: hello$/m,
        'name: bulk',
      );
      writeFileSync(
        join(dir, '.vendetta', 'config.yaml'),
        `${config}\n`.replace(
          /^services:$/m,
          'services:\n  bulk:\n    command: node bulk.js\n    port: 9090\n    healthcheck: { tcp: 9090, interval: 200ms }',
        ),
      );
      const up = JSON.parse(
        must(
          await h.run(['workspace', 'up', dir, '--node', node.name, '--json'], { timeoutMs: 240_000 }),
          'workspace up',
        ).stdout,
      ) as WorkspaceUpResult;
      const bulk = up.services?.find((s) => s.name === 'bulk');
      if (bulk?.state !== 'healthy' || !bulk.nodePort)
        throw new Error(`bulk is not healthy: ${JSON.stringify(up.services)}`);

      const fwd = startLive(
        [process.execPath, join(h.dir, 'bin', 'vendetta.js'), 'workspace', 'forward', up.name, '9090:0'],
        { ...process.env, VENDETTA_HOME: h.home, SSH_AUTH_SOCK: '' },
      );
      live.push(fwd);
      const ours = `http://127.0.0.1:${(await fwd.waitFor(/^Forwarding http:\/\/127\.0\.0\.1:(\d+) /m, 30_000)).match[1]}`;
      const sshPort = await freePort();
      const ssh = spawn(
        'ssh',
        [
          '-N',
          '-L',
          `127.0.0.1:${sshPort}:127.0.0.1:${bulk.nodePort}`,
          '-i',
          node.identity,
          '-p',
          String(node.port),
          '-o',
          'BatchMode=yes',
          '-o',
          `UserKnownHostsFile=${join(h.dir, 'bench_known_hosts')}`,
          '-o',
          'StrictHostKeyChecking=accept-new',
          '-o',
          'IdentitiesOnly=yes',
          '-o',
          'ExitOnForwardFailure=yes',
          `${node.user}@${node.host}`,
        ],
        { stdio: 'ignore' },
      );
      live.push({ stop: async () => (ssh.kill(), 0) });
      const theirs = `http://127.0.0.1:${sshPort}`;
      await waitAnswers(`${ours}/`, 30_000);
      await waitAnswers(`${theirs}/`, 30_000);

      const bulkOurs: number[] = [];
      const bulkTheirs: number[] = [];
      const latOurs: number[] = [];
      const latTheirs: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        bulkOurs.push((await fetchMs(`${ours}/bulk`)).ms);
        bulkTheirs.push((await fetchMs(`${theirs}/bulk`)).ms);
      }
      for (let i = 0; i < RUNS * 10; i++) {
        latOurs.push((await fetchMs(`${ours}/`)).ms);
        latTheirs.push((await fetchMs(`${theirs}/`)).ms);
      }
      const mbps = (ms: number) => (64 / (ms / 1000)).toFixed(0);
      process.stderr.write(
        `  services-forward medians: 64 MiB ${median(bulkOurs).toFixed(0)} ms (${mbps(median(bulkOurs))} MiB/s) vs ssh -L ${median(bulkTheirs).toFixed(0)} ms (${mbps(median(bulkTheirs))} MiB/s); request ${median(latOurs).toFixed(2)} ms vs ${median(latTheirs).toFixed(2)} ms\n`,
      );
      for (const l of live.splice(0)) await l.stop('SIGINT');
      must(await h.run(['workspace', 'rm', up.name, '--force']), 'workspace rm');
      return [
        result('services-forward-64MiB', median(bulkOurs), 'ms', 'openssh-L-64MiB', median(bulkTheirs), 1.25),
        result('services-forward-request', median(latOurs), 'ms', 'openssh-L-request', median(latTheirs), 1.2),
      ];
    } finally {
      for (const l of live) await l.stop('SIGKILL').catch(() => undefined);
      await h.cleanup();
      await net.destroy();
    }
  },
};

export const servicesBenchmarks: Benchmark[] = [servicesUpToHealthy, servicesForward];
