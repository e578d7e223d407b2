/**
 * Synced code reaches the services that use it, through the built CLI on the local node with a
 * real dockerd: an `up` whose sync changed files restarts the running `reload: on-sync` services
 * (new process, new content) and names the `reload: never` ones still on the old code; an `up`
 * that sent nothing restarts nothing; `workspace restart WS SVC` restarts just that one and
 * returns once it is back behind its check.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceStatus, WorkspaceStatus, WorkspaceUpResult } from '../../coordinator/protocol';
import { TEST_IMAGE } from '../infra/image';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';

function parse<T>(r: { code: number; stdout: string; stderr: string }, what: string): T {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

// Each server reads msg.txt once, at start: only a restart makes it serve a new version.
const server = (port: number) =>
  `const m = require('node:fs').readFileSync('msg.txt', 'utf8');\nrequire('node:net').createServer((s) => s.end(m)).listen(${port});\n`;
const CONFIG = `name: reload
docker: { image: "${TEST_IMAGE}" }
services:
  web: { command: "node web.js", port: 7080, healthcheck: { tcp: 7080, interval: 500ms } }
  keeper: { command: "node keeper.js", port: 7081, reload: never, healthcheck: { tcp: 7081, interval: 500ms } }
`;
const FETCH = "const s = require('node:net').connect(Number(process.argv[1]), '127.0.0.1'); s.pipe(process.stdout);";

describe('synced code reaches the services that use it (built CLI, real dockerd)', function () {
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
    dir = join(env.h.dir, 'projects', 'reload');
    mkdirSync(join(dir, '.vendetta'), { recursive: true });
    writeFileSync(join(dir, 'web.js'), server(7080));
    writeFileSync(join(dir, 'keeper.js'), server(7081));
    writeFileSync(join(dir, 'msg.txt'), 'v1');
    writeFileSync(join(dir, '.vendetta', 'config.yaml'), CONFIG);
  });

  after(async function () {
    this.timeout(120_000);
    if (!env) return;
    await env.cli(['workspace', 'rm', 'reload', '--force']).catch(() => undefined);
    await env.cleanup();
  });

  async function services(): Promise<Record<string, ServiceStatus>> {
    const status = parse<WorkspaceStatus>(await env.cli(['workspace', 'status', 'reload', '--json']), 'status');
    return Object.fromEntries((status.services ?? []).map((s) => [s.name, s]));
  }
  async function served(port: number): Promise<string> {
    const r = await env.cli(['workspace', 'exec', 'reload', '--', 'node', '-e', FETCH, String(port)]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  }

  it('up after a change restarts the on-sync service (new process, new content), names the never one; an up with no change restarts nothing', async function () {
    this.timeout(400_000);
    const first = await env.cli(['workspace', 'up', dir]);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const before = await services();
    assert.deepEqual([before.web?.state, before.keeper?.state], ['healthy', 'healthy'], JSON.stringify(before));
    assert.equal(await served(7080), 'v1');

    writeFileSync(join(dir, 'msg.txt'), 'v2');
    const second = await env.cli(['workspace', 'up', dir]);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /^ {2}restart: web \(the sync changed the project\)$/m);
    assert.match(
      second.stdout,
      /^ {2}stale: {3}keeper still runs the code from before this sync \(reload: never\): `vendetta workspace restart reload keeper`$/m,
    );
    const after = await services();
    assert.equal(after.web?.state, 'healthy', JSON.stringify(after.web));
    assert.notEqual(after.web?.startedAt, before.web?.startedAt);
    assert.notEqual(after.web?.pid, before.web?.pid);
    assert.deepEqual([after.keeper?.startedAt, after.keeper?.pid], [before.keeper?.startedAt, before.keeper?.pid]);
    assert.equal(await served(7080), 'v2');
    assert.equal(await served(7081), 'v1');

    const third = parse<WorkspaceUpResult>(await env.cli(['workspace', 'up', dir, '--json']), 'up');
    assert.equal(third.sync?.sent, 0);
    assert.deepEqual([third.restartedServices, third.staleServices], [undefined, undefined]);
    assert.equal((await services()).web?.startedAt, after.web?.startedAt);
  });

  it('workspace restart WS SVC restarts just that service and returns once it is healthy again', async function () {
    this.timeout(300_000);
    const before = await services();
    const r = await env.cli(['workspace', 'restart', 'reload', 'keeper']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^keeper +healthy +7081 +\d+ +0 +-$/m);
    const after = await services();
    assert.equal(after.keeper?.state, 'healthy');
    assert.notEqual(after.keeper?.startedAt, before.keeper?.startedAt);
    assert.equal(after.web?.startedAt, before.web?.startedAt);
    assert.equal(await served(7081), 'v2');

    const unknown = await env.cli(['workspace', 'restart', 'reload', 'nosuch']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^error: .*nosuch/m);
  });
});
