/**
 * What the CLI says leads somewhere, and says a thing once: hints that name commands that work,
 * forwards that last as the help promises, `down` that stops the one meant. Each test does what a
 * user did, through the built CLI on the local node with a real dockerd and the real OpenSSH client.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ForwardInfo, WorkspaceUpResult } from '../../coordinator/protocol';
import { TEST_IMAGE } from '../infra/image';
import { httpGetScript, startLive, type LiveCommand } from './servicesHarness';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';
import { requireRoot } from '../infra/sys';

/**
 * A web service on port 5000 answering `hi`, forwarded by `up --forward`, and a silent one. On the
 * local node the service is published on 127.0.0.1:5000 itself, so the forward finds 5000 taken.
 */
const CONFIG = `name: small
docker: { image: ${TEST_IMAGE} }
services:
  web:
    command: node -e "require('http').createServer((q, r) => r.end('hi')).listen(5000)"
    port: 5000
    healthcheck: { tcp: 5000, interval: 200ms, retries: 50 }
  quiet:
    command: sleep 100000
forwardPorts: [5000]
`;

describe('hints that lead somewhere, forwards that last, down that stops the one meant (built CLI, real dockerd)', function () {
  let env: WorkspaceEnv;
  let dir: string;
  let kept: number;
  const live: LiveCommand[] = [];
  const liveCli = (args: string[]) => {
    const c = startLive([...env.dockerd.nsenter, process.execPath, join(env.h.dir, 'bin', 'vendetta.js'), ...args], {
      ...process.env,
      VENDETTA_HOME: env.h.home,
      DOCKER_HOST: env.dockerd.host,
      SSH_AUTH_SOCK: '',
    });
    live.push(c);
    return c;
  };
  const get = async (url: string) =>
    JSON.parse((await env.run(httpGetScript(url))).stdout || '{"status":-1,"body":""}') as {
      status: number;
      body: string;
    };

  before(async function () {
    requireRoot(this, 'this suite (dockerd, network namespaces)');
    this.timeout(600_000);
    env = await createWorkspaceEnv();
    dir = join(env.h.dir, 'projects', 'small');
    mkdirSync(join(dir, '.vendetta'), { recursive: true });
    writeFileSync(join(dir, '.vendetta', 'config.yaml'), CONFIG);
    const up = await env.cli(['up', dir, '--forward', '--json'], { timeoutMs: 300_000 });
    assert.equal(up.code, 0, up.stderr);
    const forwards = (JSON.parse(up.stdout) as WorkspaceUpResult).forwards ?? [];
    assert.deepEqual(
      forwards.map((f) => [f.port, f.kept]),
      [[5000, true]],
    );
    kept = forwards[0]!.localPort;
  });

  after(async function () {
    this.timeout(120_000);
    for (const c of live) await c.stop('SIGKILL').catch(() => undefined);
    if (!env) return;
    for (const w of ['small', 'small2']) await env.cli(['workspace', 'rm', w, '--force']).catch(() => undefined);
    await env.cleanup();
  });

  it('node add to a host that does not answer names the node, saves nothing, and hints at commands that work', async () => {
    const add = await env.cli([
      'node',
      'add',
      'box',
      '--host',
      '127.0.0.1',
      '--port',
      '9',
      '--user',
      'dev',
      '--accept-new-host-key',
    ]);
    assert.equal(add.code, 1);
    assert.match(
      add.stderr,
      /^error: Cannot reach box at 127\.0\.0\.1:9: nothing listens on that port \(connection refused\)$/m,
    );
    assert.match(
      add.stderr,
      /^hint: Nothing was saved\. Check that the node is up and that `ssh -p 9 dev@127\.0\.0\.1` works from here, then run the same `vendetta node add box …` again\.$/m,
    );
    // The old hint, `vendetta node test 127.0.0.1`, refused the host as a node name.
    assert.doesNotMatch(add.stderr, /node test/);
    const nodes = await env.cli(['node', 'list', '--json']);
    assert.deepEqual(
      (JSON.parse(nodes.stdout) as Array<{ name: string }>).map((n) => n.name),
      ['local'],
    );
  });

  it('workspace ssh WS uname -a says to put the command after --, and that command works', async () => {
    const wrong = await env.cli(['workspace', 'ssh', 'small', 'uname', '-a']);
    assert.equal(wrong.code, 2);
    const hint = /^hint: the command's own options go after `--`: `vendetta (workspace ssh small -- uname -a)`$/m.exec(
      wrong.stderr,
    );
    assert.ok(hint, wrong.stderr);
    const right = await env.cli(hint[1]!.split(' '));
    assert.equal(right.code, 0, right.stderr);
    assert.match(right.stdout, /^Linux /);
  });

  it('workspace ssh WS without a command starts the shell in the workspace folder', async () => {
    const shell = await env.cli(['workspace', 'ssh', 'small'], { input: 'pwd\nexit\n' });
    assert.equal(shell.code, 0, shell.stderr);
    assert.equal(shell.stdout.trim().split('\n').pop(), '/workspaces/small');
  });

  it('workspace logs WS nosuch names the services, and --verbose adds the cause chain without saying the message again', async () => {
    const logs = await env.cli(['workspace', 'logs', 'small', 'nosuch', '--verbose']);
    assert.equal(logs.code, 1, logs.stdout);
    const lines = logs.stderr.trim().split('\n');
    assert.equal(lines[0], 'error: Workspace small has no service nosuch');
    assert.equal(lines[1], 'hint: Its services: web, quiet.');
    assert.equal(lines.filter((l) => l.includes('has no service nosuch')).length, 1, logs.stderr);
    assert.match(lines[2] ?? '', /^code: [A-Z_]+$/);
  });

  it('forwards made by up --forward survive a coordinator restart; workspace forwards lists them; forward --stop ends one', async function () {
    this.timeout(120_000);
    const url = `http://127.0.0.1:${kept}/`;
    assert.deepEqual(await get(url), { status: 200, body: 'hi' });
    const stop = await env.cli(['coordinator', 'stop']);
    assert.equal(stop.code, 0, stop.stderr);
    const list = await env.cli(['workspace', 'forwards', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(
      (JSON.parse(list.stdout) as ForwardInfo[]).map((f) => [f.workspace, f.port, f.localPort, f.kept]),
      [['small', 5000, kept, true]],
    );
    assert.deepEqual(
      await get(url),
      { status: 200, body: 'hi' },
      'the restarted coordinator forwards it again, on the same port',
    );
    const human = await env.cli(['workspace', 'forwards']);
    assert.ok(
      new RegExp(
        `^small +local +5000 +http://127\\.0\\.0\\.1:${kept} +\`workspace forward --stop\` or \`workspace rm\`$`,
        'm',
      ).test(human.stdout),
      human.stdout,
    );

    const ended = await env.cli(['workspace', 'forward', 'small', '5000', '--stop']);
    assert.equal(ended.code, 0, ended.stderr);
    assert.equal(ended.stdout, 'stopped forwarding small:5000\n');
    assert.equal((await get(url)).status, 0, `nothing listens on ${kept} any more`);
    await env.cli(['coordinator', 'stop']);
    assert.equal(
      (await env.cli(['workspace', 'forwards'])).stdout,
      'no forwarded ports\n',
      'and it stays ended after a restart',
    );
    const again = await env.cli(['workspace', 'forward', 'small', '5000', '--stop']);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /^error: Port 5000 of small is not forwarded\nhint: `vendetta workspace forwards` lists the forwards\.$/m,
    );
  });

  it('forward WS 5000 says when 5000 is taken here (by the service itself, on the local node) and which port it used instead', async function () {
    this.timeout(60_000);
    const fwd = liveCli(['workspace', 'forward', 'small', '5000']);
    const { match } = await fwd.waitFor(
      /^port 5000 is taken on this machine, so it is forwarded from (\d+) instead\nForwarding http:\/\/127\.0\.0\.1:(\d+) → small:5000 \(node local\)$/m,
      30_000,
    );
    assert.equal(match[1], match[2]);
    assert.deepEqual(await get(`http://127.0.0.1:${match[1]}/`), { status: 200, body: 'hi' });
    assert.equal(await fwd.stop('SIGINT'), 0);
  });

  it('down stops only the workspace named with --name; with two from one folder and no --name it names both and stops neither', async function () {
    this.timeout(300_000);
    const second = await env.cli(['up', dir, '--name', 'small2'], { timeoutMs: 300_000 });
    assert.equal(second.code, 0, second.stderr);
    const both = await env.cli(['down', dir]);
    assert.equal(both.code, 1);
    assert.match(
      both.stderr,
      /^error: 2 workspaces were made from .*: small \(local\), small2 \(local\)\nhint: Say which with --name, e\.g\. `vendetta down --name small`\.$/m,
    );
    const one = await env.cli(['down', dir, '--name', 'small2']);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, 'stopped small2 on local\n', 'said once, not "stopped small2 on local (stopped)"');
    const states = JSON.parse((await env.cli(['workspace', 'list', '--json'])).stdout) as Array<{
      name: string;
      state: string;
    }>;
    assert.deepEqual(
      states.map((w) => [w.name, w.state]),
      [
        ['small', 'running'],
        ['small2', 'stopped'],
      ],
    );
    const start = await env.cli(['workspace', 'start', 'small2']);
    // Said once, then the services as they came back behind their checks.
    assert.match(start.stdout, /^started small2 on local\n\nSERVICE +STATE/);
    assert.doesNotMatch(start.stdout, /started small2 on local \(/);
  });

  it('every time reads the same way: local YYYY-MM-DD HH:MM:SS in status and in list', async () => {
    const status = await env.cli(['workspace', 'status', 'small'], { env: { TZ: 'UTC' } });
    const when = /^created +(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)$/m.exec(status.stdout);
    assert.ok(when, status.stdout);
    assert.match(status.stdout, /^started +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m);
    const list = await env.cli(['workspace', 'list'], { env: { TZ: 'UTC' } });
    assert.ok(list.stdout.includes(when[1]!), list.stdout);
    const json = JSON.parse((await env.cli(['workspace', 'status', 'small', '--json'])).stdout) as {
      createdAt: string;
    };
    assert.equal(
      json.createdAt.slice(0, 19).replace('T', ' '),
      when[1],
      'the UTC clock of the record, shown in TZ=UTC',
    );
  });
});
