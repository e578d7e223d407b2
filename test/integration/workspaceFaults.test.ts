import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceSummary, WorkspaceUpResult } from '../../coordinator/protocol';
import { createDockerNodes, type DockerNode, type DockerNodes } from '../infra/dockerNode';
import { pidAlive } from '../infra/sys';
import { createCliHome, REPO, waitUntil, type CliHome, type CliResult } from './coordinatorHarness';

const HELLO = join(REPO, 'examples', 'hello');
const README = readFileSync(join(HELLO, 'README.md'), 'utf8');

/**
 * Workspaces on one real SSH node (a network namespace with its own sshd and dockerd) through the
 * built CLI and the real OpenSSH client, while things go wrong: the coordinator or the node's agent
 * killed, the node's link cut in the middle of `up`, and input that cannot work.
 */
describe('workspaces on an SSH node survive crashes and a cut link, and refuse bad input clearly', function () {
  let net: DockerNodes | undefined;
  let h: CliHome | undefined;
  let node: DockerNode;
  let project: string;
  const alias = (ws: string) => `${ws}.${node.name}.vendetta`;

  const cli = (args: string[], opts?: Parameters<CliHome['run']>[1]) => h!.run(args, { timeoutMs: 120_000, ...opts });
  const ssh = (ws: string, command: string[]): Promise<CliResult> => sshRun(h!, alias(ws), command);
  const up = async (args: string[]): Promise<WorkspaceUpResult> => {
    const r = await cli(['workspace', 'up', ...args, '--node', node.name, '--json']);
    assert.equal(r.code, 0, `workspace up ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as WorkspaceUpResult;
  };
  const containersOf = async (ws: string) =>
    (await net!.containers(0)).filter((c) => c.Labels['dev.vendetta.workspace'] === ws);
  const agentPid = (): number | undefined => {
    try {
      return (JSON.parse(readFileSync(join(node.home, '.vendetta-agent', 'daemon.pid'), 'utf8')) as { pid: number })
        .pid;
    } catch {
      return undefined;
    }
  };

  before(async function () {
    // Needs root (network namespaces, users, dockerd); under CI it never skips.
    if (process.getuid?.() !== 0 && process.env.CI !== 'true') {
      console.log('    (skipped: the workspace fault suite needs root)');
      this.skip(); // not root, off CI: the suite needs network namespaces, users and dockerd
    }
    this.timeout(600_000);
    net = await createDockerNodes({ count: 1, label: 'wsfault' });
    node = net.nodes[0]!;
    h = createCliHome();
    project = join(h.dir, 'projects', 'hello');
    mkdirSync(join(h.dir, 'projects'), { recursive: true });
    cpSync(HELLO, project, { recursive: true });
    const add = await cli([
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
      '--json',
    ]);
    assert.equal(add.code, 0, `node add: ${add.stderr}`);
  });

  after(async function () {
    this.timeout(120_000);
    try {
      if (h)
        for (const ws of ['hello', 'hello-2', 'hello-3'])
          await cli(['workspace', 'rm', ws, '--force'], { timeoutMs: 30_000 }).catch(() => undefined);
    } finally {
      await h?.cleanup();
      await net?.destroy();
    }
  });

  it('up on the node, then OpenSSH through the generated config prints the project README', async function () {
    this.timeout(180_000);
    const r = await up([project]);
    assert.deepEqual(
      [r.name, r.node, r.state, r.sshHost, r.existed],
      ['hello', node.name, 'running', alias('hello'), false],
    );
    const cat = await ssh('hello', ['cat', '/workspaces/hello/README.md']);
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, README);
    assert.equal((await containersOf('hello')).length, 1);
  });

  it('the coordinator killed -9 and started again still lists the workspace and reaches it', async function () {
    this.timeout(120_000);
    const pid = h!.coordinatorPid();
    assert.ok(pid && pidAlive(pid), 'a coordinator runs');
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => !pidAlive(pid), 10_000, 'the coordinator to die');
    const list = await cli(['workspace', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const hello = (JSON.parse(list.stdout) as WorkspaceSummary[]).find((w) => w.name === 'hello');
    assert.equal(hello?.state, 'running', list.stdout);
    assert.notEqual(h!.coordinatorPid(), pid, 'a new coordinator answered');
    const cat = await ssh('hello', ['cat', '/workspaces/hello/README.md']);
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, README);
  });

  it('the node agent killed in the middle of a create: the next up completes, with one container', async function () {
    this.timeout(240_000);
    const victim = agentPid();
    assert.ok(victim && pidAlive(victim), 'the node agent runs');
    let killed = false;
    const first = cli(['workspace', 'up', project, '--name', 'hello-2', '--node', node.name], {
      onStderr: (s) => {
        // Progress lines come as each step ends: the container exists, its start and the
        // workspace's state on the node are still ahead.
        if (!killed && /Creating the container/.test(s)) {
          killed = true;
          process.kill(victim, 'SIGKILL');
        }
      },
    });
    const r1 = await first;
    assert.ok(killed, `the create reached the node: ${r1.stderr}`);
    console.log(
      `      first up after the kill: exit ${r1.code}${r1.code ? `, ${r1.stderr.split('\n').find((l) => l.startsWith('error:'))}` : ''}`,
    );
    assert.equal((await containersOf('hello-2')).length, 1, 'the kill came after the container was made');
    const r2 = await up([project, '--name', 'hello-2']);
    assert.equal(r2.state, 'running');
    assert.notEqual(agentPid(), victim, 'a new agent daemon serves the node');
    const containers = await containersOf('hello-2');
    assert.equal(containers.length, 1, `one container for hello-2: ${JSON.stringify(containers.map((c) => c.Names))}`);
    const cat = await ssh('hello-2', ['cat', '/workspaces/hello-2/README.md']);
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, README);
  });

  it('the node link cut during up fails with NODE_UNREACHABLE; after the link is back a retry completes', async function () {
    this.timeout(240_000);
    writeFileSync(join(project, 'CHANGED.md'), 'made while the link was down\n');
    try {
      // --json prints no progress, so the cut comes right after the command starts: the coordinator
      // still holds a healthy-looking pooled connection, and the up's calls to the node go unanswered.
      const pending = cli(['workspace', 'up', project, '--name', 'hello-3', '--node', node.name, '--json']);
      net!.cutLink(0);
      const r = await pending;
      assert.notEqual(r.code, 0, `up completed with the link cut: ${r.stdout}`);
      const err = (
        JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as {
          error?: { code: string; message: string; hint?: string };
        }
      ).error;
      assert.equal(err?.code, 'NODE_UNREACHABLE', r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`^error: .*${node.name}`, 'm'));
      assert.match(r.stderr, /^hint: /m);
      console.log(`      up with the link cut failed after ${(r.ms / 1000).toFixed(1)} s: ${r.stderr.split('\n')[0]}`);
    } finally {
      net!.restoreLink(0);
    }
    const retry = await waitUntil(
      async () =>
        (await cli(['workspace', 'up', project, '--name', 'hello-3', '--node', node.name, '--json'])).code === 0,
      90_000,
      'a retried up to complete',
    );
    console.log(`      retry completed ${(retry / 1000).toFixed(1)} s after the link came back`);
    assert.equal((await containersOf('hello-3')).length, 1);
    const cat = await ssh('hello-3', ['cat', '/workspaces/hello-3/CHANGED.md']);
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, 'made while the link was down\n');
  });

  it('a path that is not a project is refused with a clear error', async function () {
    this.timeout(60_000);
    const empty = join(h!.dir, 'projects', 'not-a-project');
    mkdirSync(empty, { recursive: true });
    const r = await cli(['workspace', 'up', empty, '--node', node.name]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^error: .*(\.vendetta\/config\.yaml|devcontainer)/m);
    assert.match(r.stderr, /^hint: /m);
    const missing = await cli(['workspace', 'up', join(h!.dir, 'projects', 'nowhere'), '--node', node.name]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /^error: .*nowhere/m);
  });

  it('a config whose image the node lacks is refused with a clear error and leaves nothing', async function () {
    this.timeout(120_000);
    const bad = join(h!.dir, 'projects', 'no-image');
    mkdirSync(join(bad, '.vendetta'), { recursive: true });
    writeFileSync(
      join(bad, '.vendetta', 'config.yaml'),
      'name: no-image\nprovider: docker\ndocker:\n  image: vendetta-test/does-not-exist:1\n',
    );
    writeFileSync(join(bad, 'README.md'), 'x\n');
    const r = await cli(['workspace', 'up', bad, '--node', node.name]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^error: .*vendetta-test\/does-not-exist:1/m);
    assert.match(r.stderr, /^hint: /m);
    assert.equal((await containersOf('no-image')).length, 0);
  });
});

/** `ssh -F $VENDETTA_HOME/ssh_config <alias> …`, never prompting. */
function sshRun(h: CliHome, host: string, command: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn('ssh', ['-F', join(h.home, 'ssh_config'), '-o', 'BatchMode=yes', '--', host, ...command], {
      env: { ...process.env, VENDETTA_HOME: h.home, SSH_AUTH_SOCK: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}
