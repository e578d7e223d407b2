import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceStatus, WorkspaceSummary } from '../../coordinator/protocol';
import { TEST_IMAGE } from '../infra/image';
import { waitUntil } from './coordinatorHarness';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';

// The idle watch looks every IDLE_S/6 s, and each look is an exec charged to the workspace's CPU
// (~60 ms on Docker here): 5 s made its own looks ~6 % of a CPU, near the 10 % busy threshold.
const IDLE_S = 10;

function parse<T>(r: { code: number; stdout: string; stderr: string }, what: string): T {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

describe('idleTimeout: the node stops a workspace nobody uses, and not one in use', function () {
  let env: WorkspaceEnv;
  const numbers: Record<string, number> = {};

  before(async function () {
    // Needs root (dockerd, network namespaces); under CI it never skips.
    if (process.getuid?.() !== 0 && process.env.CI !== 'true') {
      console.log('    (skipped: the Docker workspace suite needs root)');
      this.skip(); // not root, off CI: the suite needs dockerd and network namespaces
    }
    this.timeout(600_000);
    env = await createWorkspaceEnv();
    const project = join(env.h.dir, 'projects', 'idle');
    mkdirSync(join(project, '.vendetta'), { recursive: true });
    // An echo server as a service, without a health check: nothing but the test connects to it.
    writeFileSync(
      join(project, '.vendetta', 'config.yaml'),
      [
        'name: idle',
        'provider: docker',
        `docker: { image: ${TEST_IMAGE} }`,
        `idleTimeout: ${IDLE_S}s`,
        'services:',
        '  echo:',
        `    command: ["node", "-e", "require('net').createServer((s) => s.pipe(s)).listen(7070)"]`,
        '    port: 7070',
        '',
      ].join('\n'),
    );
    const up = await env.cli(['workspace', 'up', project], { timeoutMs: 300_000 });
    assert.equal(up.code, 0, up.stderr);
  });

  after(async function () {
    this.timeout(120_000);
    if (!env) return;
    await env.cli(['workspace', 'rm', 'idle', '--force']).catch(() => undefined);
    await env.cleanup();
    if (Object.keys(numbers).length) console.log(`    measured: ${JSON.stringify(numbers)}`);
  });

  const summary = async () =>
    parse<WorkspaceSummary[]>(await env.cli(['workspace', 'list', '--json']), 'list').find((w) => w.name === 'idle')!;
  const running = async () => (await summary()).state === 'running';
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  // Each case connects first, which wakes the workspace if the idle watch stopped it (nothing else may
  // fill the gap between a start and the activity under test: on a loaded machine that gap can exceed
  // the idle timeout). The idle stop itself and an SSH session holding it: the shared lifecycle suite.
  it('does not stop it while a process burns CPU with nobody connected', async () => {
    // Started inside a session that then ends: only the CPU use remains. One word: ssh joins its
    // arguments with spaces for the login shell, so `sh -c <script>` would lose the script's quoting.
    // `timeout` only bounds a leftover; the test ends the process itself once it has looked.
    const burn = await env.ssh(
      'idle.local.vendetta',
      [`nohup timeout 300 sh -c 'while :; do :; done' >/dev/null 2>&1 & echo $! > /tmp/burn.pid; sleep 1`],
      { timeoutMs: 120_000 },
    );
    assert.equal(burn.code, 0, burn.stderr);
    await sleep(IDLE_S * 2 * 1000);
    assert.ok(await running(), 'a CPU-bound process keeps it running');
    // The process under test ran all along (this look connects, so it comes after the check); it ends here.
    const ended = await env.ssh('idle.local.vendetta', ['kill "$(cat /tmp/burn.pid)"'], { timeoutMs: 60_000 });
    assert.equal(ended.code, 0, `the CPU-bound process was not running: ${ended.stderr}`);
    assert.doesNotMatch(ended.stderr, /starting it/, 'the workspace had not been stopped');
    await waitUntil(
      async () => (await summary()).stopped?.reason === 'idle',
      90_000,
      'the workspace to stop once the process ended',
    );
  });

  it('does not stop it while a forwarded connection to a service port is open', async () => {
    // A session wakes it and holds it while the forwarded connection is opened; then it ends.
    const session = env.ssh('idle.local.vendetta', ['sleep', String(IDLE_S * 6)], { timeoutMs: 180_000 });
    await waitUntil(running, 60_000, 'the workspace to start for the session');
    let port: number | undefined;
    await waitUntil(
      async () => {
        const status = parse<WorkspaceStatus>(await env.cli(['workspace', 'status', 'idle', '--json']), 'status');
        port = status.services?.find((s) => s.name === 'echo' && s.state === 'running')?.nodePort;
        return port !== undefined;
      },
      60_000,
      'the echo service to run',
    );
    // A connection to the service's port on the node, held open, as a forward holds it. "running" is
    // the process started, maybe not yet listening (no health check), and the engine's port proxy
    // accepts before it reaches the service: only an echoed line proves the connection is through.
    const hold = [
      'for i in $(seq 30); do',
      `  exec 3<>/dev/tcp/127.0.0.1/${port} && echo through >&3 && read -t 5 -r line <&3 && [ "$line" = through ] && break`,
      '  exec 3<&-; sleep 1',
      'done',
      '[ "$line" = through ] || exit 9',
      `sleep ${IDLE_S * 9}`,
    ].join('\n');
    const held = env.run(['bash', '-c', hold], { timeoutMs: 180_000 });
    assert.equal((await session).code, 0);
    await sleep(IDLE_S * 2 * 1000);
    assert.ok(await running(), 'a forwarded connection keeps it running');
    const h = await held;
    assert.equal(h.code, 0, `the held connection never echoed: ${h.stderr}`);
    await waitUntil(
      async () => (await summary()).stopped?.reason === 'idle',
      60_000,
      'the workspace to stop once the connection closed',
    );
  });
});
