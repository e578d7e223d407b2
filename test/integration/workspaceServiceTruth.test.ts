/**
 * What `up` and `start` say about services is true, through the built CLI on the local node with a
 * real dockerd: a command that cannot run fails at once and `up` says why; a service without a
 * check is `running`, a TCP one has a tcp:// URL; `start` returns once the services are back.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PortInfo, WorkspaceStartResult, WorkspaceStatus } from '../../coordinator/protocol';
import { TEST_IMAGE } from '../infra/image';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';

function parse<T>(r: { code: number; stdout: string; stderr: string }, what: string): T {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const KV = "require('node:net').createServer((s) => s.end('kv\\n')).listen(7070);\n";
const config = (withTypo: boolean) => `name: typo
docker: { image: "${TEST_IMAGE}" }
services:
  kv: { command: "node kv.js", port: 7070, healthcheck: { tcp: 7070, interval: 500ms } }
  cron: { command: "sleep 1000" }
${withTypo ? '  api: { command: "nosuch-server --port 3000", restart: always, depends_on: [kv] }\n' : ''}`;

describe('services say why at once, and start waits for them (built CLI, real dockerd)', function () {
  let env: WorkspaceEnv;
  let dir: string;

  before(async function () {
    // Needs root (dockerd, network namespaces); under CI it never skips.
    if (process.getuid?.() !== 0 && process.env.CI !== 'true') {
      console.log('    (skipped: the Docker workspace suite needs root)');
      this.skip(); // not root, off CI
    }
    this.timeout(600_000);
    env = await createWorkspaceEnv();
    dir = join(env.h.dir, 'projects', 'typo');
    mkdirSync(join(dir, '.vendetta'), { recursive: true });
    writeFileSync(join(dir, 'kv.js'), KV);
  });

  after(async function () {
    this.timeout(120_000);
    if (!env) return;
    await env.cli(['workspace', 'rm', 'typo', '--force']).catch(() => undefined);
    await env.cleanup();
  });

  it('a command that is not found fails up at once: exit 1, no "is running", its last log lines and the logs command; no check is running, TCP is tcp://', async function () {
    this.timeout(300_000);
    writeFileSync(join(dir, '.vendetta', 'config.yaml'), config(true));
    const up = await env.cli(['workspace', 'up', dir]);
    assert.equal(up.code, 1, up.stdout + up.stderr);
    assert.doesNotMatch(up.stdout, /is running/);
    assert.match(up.stdout, /^api +exited +- +- +0 +exited with code 127: command not found$/m);
    assert.match(up.stderr, /^error: service api of typo is exited: exited with code 127: command not found$/m);
    assert.match(up.stderr, /^ {2}\d\d:\d\d:\d\d\.\d{3} .*nosuch-server: not found$/m);
    assert.match(up.stderr, /^hint: `vendetta workspace logs typo api` shows its whole log/m);

    const status = parse<WorkspaceStatus>(await env.cli(['workspace', 'status', 'typo', '--json']), 'status');
    const byName = Object.fromEntries((status.services ?? []).map((s) => [s.name, s]));
    assert.deepEqual(
      [byName.api?.state, byName.api?.restarts, byName.cron?.state, byName.kv?.state],
      ['exited', 0, 'running', 'healthy'],
      JSON.stringify(status.services),
    );
    const ports = parse<PortInfo[]>(await env.cli(['workspace', 'ports', 'typo', '--json']), 'ports');
    assert.deepEqual(
      ports.map((p) => [p.service, p.url]),
      [['kv', `tcp://127.0.0.1:${ports[0]!.nodePort}`]],
    );
  });

  it("workspace start returns once the services are back behind their checks, and WHY never shows the stop's exit 143", async function () {
    this.timeout(300_000);
    writeFileSync(join(dir, '.vendetta', 'config.yaml'), config(false));
    const up = await env.cli(['workspace', 'up', dir]);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    assert.match(up.stdout, /^typo on local is running/m);
    assert.equal((await env.cli(['workspace', 'stop', 'typo'])).code, 0);

    const started = parse<WorkspaceStartResult>(await env.cli(['workspace', 'start', 'typo', '--json']), 'start');
    assert.deepEqual(
      started.services?.map((s) => [s.name, s.state]),
      [
        ['kv', 'healthy'],
        ['cron', 'running'],
      ],
    );
    assert.equal((await env.cli(['workspace', 'stop', 'typo'])).code, 0);
    const human = await env.cli(['workspace', 'start', 'typo']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^kv +healthy +7070 +\d+ +0 +-$/m);
    assert.match(human.stdout, /^cron +running +- +- +0 +-$/m);
    const table = await env.cli(['workspace', 'status', 'typo']);
    assert.doesNotMatch(table.stdout, /exit 143/);
  });
});
