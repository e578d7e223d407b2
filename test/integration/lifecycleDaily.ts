/**
 * The shared lifecycle suite's daily-use cases (lifecycleSuite.ts): the project's secrets reach
 * logins, exec and services and nothing else, and an idle workspace stops on the node and starts
 * again when someone connects. Run for every provider row, so that an engine whose proxy hides
 * where a connection came from (LXD's proxy device connects from the instance's own loopback)
 * is held running by a session like any other.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, lstatSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceStatus } from '../../coordinator/protocol';
import { pidAlive, processCmdline, waitGoneSync } from '../infra/sys';
import { waitUntil } from './coordinatorHarness';
import type { LifecycleRun } from './lifecycleRun';

const ALIAS = 'hello.local.vendetta';
const IDLE_S = 10;

/** Every regular file under `dir` holding `needle`, but a VM's disk (the guest's own storage, as an engine's). */
function filesHolding(dir: string, needle: string): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) visit(p);
      else if (e.isFile() && !p.endsWith('.qcow2') && lstatSync(p).size < 64 << 20 && readFileSync(p).includes(needle))
        out.push(p);
    }
  };
  visit(dir);
  return out.sort();
}

/** A secrets file in the project, before its first `up`: a value unique to this run. */
export function addSecrets(project: string): string {
  const secret = `hello-secret-${randomUUID()}`;
  appendFileSync(join(project, '.vendetta', 'config.yaml'), 'secretsFile: .vendetta/secrets.env\n');
  writeFileSync(join(project, '.vendetta', 'secrets.env'), `HELLO_TOKEN=${secret}\n`);
  return secret;
}

export function secretsCase(t: LifecycleRun, secret: () => string): void {
  it('the secrets reach an ssh login, exec and the services; not ps, status, list, logs or any file but the node’s 0600 copy', async function () {
    this.timeout(120_000 * t.slow);
    const { env } = t;
    const SECRET = secret();
    const login = await env.ssh(ALIAS, ['printf "%s" "$HELLO_TOKEN"']);
    assert.equal(login.stdout, SECRET, login.stderr);
    const exec = await t.execSh('printf "%s" "$HELLO_TOKEN"');
    assert.equal(exec.stdout, SECRET, exec.stderr);
    // The api service's own environment, compared inside so the value enters no argv.
    const apiPid = (await t.status()).services!.find((x) => x.name === 'api')!.pid!;
    const svc = await t.execSh(
      `[ "$(tr '\\0' '\\n' < /proc/${apiPid}/environ | sed -n 's/^HELLO_TOKEN=//p')" = "$HELLO_TOKEN" ] && echo service-has-it; ` +
        `cat /proc/[0-9]*/cmdline | tr '\\0' ' '; test -e /workspaces/hello/.vendetta/secrets.env || echo not-synced`,
    );
    assert.match(svc.stdout, /^service-has-it\n/, svc.stderr);
    assert.match(svc.stdout, /services\/api\.mjs/, 'the workspace’s argv list was read');
    assert.ok(!svc.stdout.includes(SECRET), 'no argv in the workspace holds it');
    assert.match(svc.stdout, /not-synced\n$/, 'the secrets file is not synced');

    const ps = execFileSync('ps', ['-eww', '-o', 'args'], { maxBuffer: 64 << 20 }).toString();
    const leaks = ps.split('\n').filter((l) => l.includes(SECRET));
    assert.deepEqual(
      leaks.map((l) => l.replaceAll(SECRET, '<secret>')),
      [],
      'no argv on the node holds it',
    );
    for (const args of [
      ['workspace', 'status', 'hello', '--json'],
      ['workspace', 'list', '--json'],
      ['workspace', 'logs', 'hello', '--tail', '200'],
    ]) {
      const r = await env.cli(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.ok(!(r.stdout + r.stderr).includes(SECRET), args.join(' '));
    }
    // The coordinator's and the agent's homes: logs, state, the synced tree, the engine's records.
    const nodeCopy = join(env.h.home, 'local-agent', 'workspaces', 'hello', 'secrets.env');
    assert.deepEqual(filesHolding(env.h.home, SECRET), [nodeCopy]);
    assert.equal(statSync(nodeCopy).mode & 0o777, 0o600);
    assert.ok(!(await env.engineRecord('hello')).includes(SECRET), 'the engine’s own record of the workspace');
  });
}

/** `idleTimeout` set (or dropped, `undefined`) on the running workspace by `up`, which keeps it. */
async function setIdleTimeout(t: LifecycleRun, value: string | undefined): Promise<void> {
  const file = join(t.project, '.vendetta', 'config.yaml');
  const text = readFileSync(file, 'utf8').replace(/^idleTimeout: .*\n/m, '');
  writeFileSync(file, value ? `${text}idleTimeout: ${value}\n` : text);
  const up = await t.env.cli(['workspace', 'up', t.project], { timeoutMs: t.provider.bootMs });
  assert.equal(up.code, 0, up.stderr);
}

/**
 * An open session holds the workspace past its `idleTimeout`; then the node stops it as idle. The
 * session is open before the timeout is set and lasts twice the timeout after: on a loaded machine
 * an `ssh` can take longer to connect than the timeout, which then rightly stops an idle workspace.
 */
export async function idleStops(t: LifecycleRun): Promise<void> {
  const mark = '/tmp/vendetta-idle-session';
  const opened = `rm -f ${mark}.end; touch ${mark}; until [ -e ${mark}.end ]; do sleep 1; done`;
  const session = t.env.ssh(ALIAS, ['sh', '-c', opened], { timeoutMs: 600_000 * t.slow });
  await waitUntil(
    async () => (await t.execSh(`test -e ${mark}`)).code === 0,
    60_000 * t.slow,
    'the ssh session to open',
  );
  await setIdleTimeout(t, `${IDLE_S}s`);
  await new Promise((r) => setTimeout(r, IDLE_S * 2 * 1000));
  assert.equal((await t.execSh(`touch ${mark}.end`)).code, 0, 'the session told to end');
  const held = await session;
  assert.equal(held.code, 0, held.stderr);
  assert.equal((await t.listed())?.state, 'running', 'a session twice the idle timeout held it');
  const t0 = Date.now();
  await waitUntil(
    async () => (await t.listed())?.stopped?.reason === 'idle',
    90_000 * t.slow,
    'the idle workspace to stop',
  );
  t.numbers.idleStopAfterMs = Date.now() - t0;
  assert.deepEqual(await t.env.workspaces(), [{ workspace: 'hello', running: false }]);
  const human = await t.env.cli(['workspace', 'list']);
  assert.match(
    human.stdout,
    new RegExp(
      `^hello +local +${t.provider.name} +stopped \\(idle since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\)`,
      'm',
    ),
  );
}

export function idleCase(t: LifecycleRun): void {
  it('idle: an open ssh session holds it; idle, the node stops it; an ssh login starts it again with what was written inside', async function () {
    this.timeout(t.provider.bootMs + 240_000);
    await idleStops(t);
    const woke = await t.env.ssh(ALIAS, ['cat', '/root/note'], { timeoutMs: t.provider.bootMs });
    assert.equal(woke.code, 0, woke.stderr);
    assert.equal(woke.stdout, 'kept\n');
    assert.match(woke.stderr, /starting it/);
    t.numbers.wakeMs = woke.ms;
    await setIdleTimeout(t, undefined);
    await waitUntil(
      async () => (await t.status()).services?.every((s) => s.state === 'healthy') ?? false,
      60_000 * t.slow,
      'the services healthy again after the wake',
    );
  });
}

/** Kills this home's agent daemon (only if it is one) and waits until it is gone. */
export function killAgent(t: LifecycleRun): number {
  const victim = t.agentPid();
  assert.ok(victim && pidAlive(victim), 'the local agent runs');
  // Only this home's daemon is ours to kill (a stale pid could now be anyone's process).
  assert.ok(processCmdline(victim).includes('daemon'), `pid ${victim} is an agent daemon`);
  process.kill(victim, 'SIGKILL');
  // A SIGKILLed process takes a moment to go on a busy machine; "killed" means gone.
  assert.ok(waitGoneSync([victim], 10_000), `the killed agent ${victim} is gone`);
  return victim;
}

export function rebootCase(t: LifecycleRun): void {
  it('after a node reboot (every workspace stopped, engine and agent restarted) it and its services come back before anyone connects', async function () {
    this.timeout(t.provider.bootMs + 120_000);
    const { env } = t;
    killAgent(t);
    await env.nodeReboot!();
    const t0 = Date.now();
    let last = '';
    await waitUntil(
      async () => {
        // While the agent and the engine come back, status may fail; that is not yet an answer.
        const r = await env.cli(['workspace', 'status', 'hello', '--json']);
        last = r.stdout + r.stderr;
        const s = r.code === 0 ? (JSON.parse(r.stdout) as WorkspaceStatus) : undefined;
        return s?.state === 'running' && (s.services ?? []).every((x) => x.state === 'healthy');
      },
      120_000,
      'the workspace and its services to be back',
    ).catch((err: Error) => assert.fail(`${err.message}; last status: ${last}`));
    t.numbers.backAfterRebootMs = Date.now() - t0;
    const r = await env.ssh(ALIAS, ['cat', '/root/note']);
    assert.equal(r.stdout, 'kept\n', r.stderr);
    assert.doesNotMatch(r.stderr, /starting it/, 'it was back before anyone connected');
    await t.rememberPorts();
  });
}
