import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceStatus, WorkspaceSummary, WorkspaceUpResult } from '../../coordinator/protocol';
import { startDockerd, type Dockerd } from '../infra/docker';
import { ensureTestImage } from '../infra/image';
import { createTestNodes, type TestNode, type TestNodes } from '../infra/nodes';
import { requireCommands, requireRoot } from '../infra/sys';
import { createCliHome, median, REPO, type CliHome, type CliResult } from './coordinatorHarness';

const HELLO = join(REPO, 'examples', 'hello');
const README = readFileSync(join(HELLO, 'README.md'), 'utf8');

function parse<T>(r: CliResult, what: string): T {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** The real OpenSSH client with the generated config, from this (the coordinator's) machine. */
function ssh(h: CliHome, alias: string, command: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn('ssh', ['-F', join(h.home, 'ssh_config'), '-o', 'BatchMode=yes', '--', alias, ...command], {
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

describe('workspaces on an SSH node: everything over the one pooled connection', function () {
  let net: TestNodes;
  let node: TestNode;
  let dockerd: Dockerd;
  let h: CliHome;
  let runDir: string;
  let copy: string;
  const numbers: Record<string, number> = {};

  before(async function () {
    requireRoot(this, 'the SSH-node workspace suite');
    requireCommands(this, 'the SSH-node workspace suite', ['sshd', 'ssh', 'dockerd', 'ip', 'nsenter']);
    this.timeout(600_000);
    net = await createTestNodes({ count: 1, label: 'wsn' });
    node = net.nodes[0]!;
    h = createCliHome();
    // The node's own engine, in its namespace, where its user's agent finds it without any
    // setting: the rootless socket path of that user.
    runDir = `/run/user/${node.uid}`;
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    chownSync(runDir, node.uid, node.uid);
    dockerd = await startDockerd({
      dir: join(h.dir, 'dockerd'),
      netns: node.netns,
      socketPath: join(runDir, 'docker.sock'),
      group: node.user,
      bip: '10.79.212.1/24',
    });
    await ensureTestImage(dockerd.socket);
    const add = await h.run([
      'node',
      'add',
      node.name,
      '--host',
      node.host,
      '--user',
      node.user,
      '--identity',
      node.identity,
      '--accept-new-host-key',
    ]);
    assert.equal(add.code, 0, add.stderr);
    copy = join(h.dir, 'hello-copy');
    cpSync(HELLO, copy, { recursive: true });
  });

  after(async function () {
    this.timeout(120_000);
    await h?.cleanup();
    await dockerd?.stop();
    await net?.destroy();
    if (runDir) rmSync(runDir, { recursive: true, force: true });
    if (Object.keys(numbers).length) console.log(`    measured: ${JSON.stringify(numbers)}`);
  });

  const containers = async () => {
    const r = await dockerd.engine.json({
      method: 'GET',
      path: '/containers/json',
      query: { all: 1, filters: JSON.stringify({ label: ['dev.vendetta.workspace'] }) },
      accept: [200],
      what: 'list',
    });
    return (r.value as Array<{ Labels: Record<string, string> }>).map((c) => c.Labels['dev.vendetta.workspace']).sort();
  };

  it('up on the node, then ssh from here reaches its sshd through ssh-proxy and a direct-tcpip channel', async () => {
    const up = await h.run(['workspace', 'up', HELLO, '--node', node.name]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(
      up.stderr,
      /^\[3\/6\] Waiting for the SSH server of hello on 127\.0\.0\.1:\d+ \d+\.\d s$/m,
      "the agent's progress arrives over the pooled connection",
    );
    const alias = `hello.${node.name}.vendetta`;
    const cat = await ssh(h, alias, ['cat', '/workspaces/hello/README.md']);
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, README);
    numbers.upToSshReadyMs = up.ms + cat.ms;
    const s = parse<WorkspaceStatus>(await h.run(['workspace', 'status', 'hello', '--json']), 'status');
    assert.equal(s.ssh?.host, '127.0.0.1', "the sshd listens on the node's loopback only");
    assert.ok(s.nodeFolder?.startsWith(`${node.home}/.vendetta-agent/`), s.nodeFolder ?? '');
    const exec = await h.run(['workspace', 'exec', 'hello', '--', 'sh', '-c', 'cat README.md; exit 42']);
    assert.equal(exec.code, 42);
    assert.equal(exec.stdout, README);
  });

  it('measures ssh-proxy beside OpenSSH jumping through the node to the same sshd', async () => {
    const s = parse<WorkspaceStatus>(await h.run(['workspace', 'status', 'hello', '--json']), 'status');
    const kh = join(h.home, 'known_hosts');
    const jump = `ssh -i ${node.identity} -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=${kh} -o StrictHostKeyChecking=yes -W %h:%p ${node.user}@${node.host}`;
    const direct = [
      '-i',
      join(h.home, 'keys', 'workspace_ed25519'),
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${kh}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      `HostKeyAlias=hello.${node.name}.vendetta`,
      '-o',
      `ProxyCommand=${jump}`,
      '-p',
      String(s.ssh!.port),
      `root@${s.ssh!.host}`,
      'true',
    ];
    const viaProxy: number[] = [];
    const viaJump: number[] = [];
    for (let i = 0; i < 5; i++) {
      const p = await ssh(h, `hello.${node.name}.vendetta`, ['true']);
      assert.equal(p.code, 0, p.stderr);
      viaProxy.push(p.ms);
      const j = await new Promise<CliResult>((resolve) => {
        const t0 = Date.now();
        const child = spawn('ssh', direct, { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('close', (code) => resolve({ code: code ?? -1, stdout: '', stderr, ms: Date.now() - t0 }));
      });
      assert.equal(j.code, 0, j.stderr);
      viaJump.push(j.ms);
    }
    numbers.sshViaProxyMs = median(viaProxy);
    numbers.sshJumpThroughNodeMs = median(viaJump);
  });

  it('a second up sends only the changed file over an exec channel of the same connection', async () => {
    parse<WorkspaceUpResult>(
      await h.run(['workspace', 'up', copy, '--node', node.name, '--name', 'copy', '--json']),
      'up copy',
    );
    writeFileSync(join(copy, 'README.md'), '# changed on the node too\n');
    const later = new Date(Date.now() + 2000);
    utimesSync(join(copy, 'README.md'), later, later);
    const again = await h.run(['workspace', 'up', copy, '--node', node.name, '--name', 'copy', '--json']);
    const r = parse<WorkspaceUpResult>(again, 're-up');
    assert.equal(r.sync?.sent, 1);
    numbers.reUpOneChangedFileMs = again.ms;
    assert.equal(
      (await ssh(h, `copy.${node.name}.vendetta`, ['cat', '/workspaces/copy/README.md'])).stdout,
      '# changed on the node too\n',
    );
  });

  it('a link cut during up fails with a clear error, and the retry completes without a second container', async function () {
    this.timeout(120_000);
    const project = join(h.dir, 'cut');
    cpSync(HELLO, project, { recursive: true });
    const running = h.run(['workspace', 'up', project, '--node', node.name, '--name', 'cut'], { timeoutMs: 90_000 });
    await new Promise((r) => setTimeout(r, 150));
    net.cutLink(0);
    let failed: CliResult;
    try {
      failed = await running;
    } finally {
      net.restoreLink(0);
    }
    assert.equal(failed.code, 1, failed.stdout);
    assert.match(failed.stderr, new RegExp(`error: .*${node.name}`));
    assert.match(failed.stderr, /^hint: /m);
    // Right after the link returns the kernel may still hold the failed neighbour entry for a
    // moment ("no route to the host"): a person retries; so does the test, for up to 30 s.
    let retry = await h.run(['workspace', 'up', project, '--node', node.name, '--name', 'cut', '--json'], {
      timeoutMs: 90_000,
    });
    for (
      const until = Date.now() + 30_000;
      retry.code !== 0 && /NODE_UNREACHABLE|Cannot reach/.test(retry.stdout + retry.stderr) && Date.now() < until;

    ) {
      await new Promise((r) => setTimeout(r, 1000));
      retry = await h.run(['workspace', 'up', project, '--node', node.name, '--name', 'cut', '--json'], {
        timeoutMs: 90_000,
      });
    }
    const r = parse<WorkspaceUpResult>(retry, 'retry');
    assert.equal(r.state, 'running');
    assert.deepEqual(
      (await containers()).filter((n) => n === 'cut'),
      ['cut'],
      'exactly one container for it',
    );
    assert.equal((await ssh(h, `cut.${node.name}.vendetta`, ['cat', '/workspaces/cut/README.md'])).stdout, README);
  });

  it('rm removes the container and the folder on the node, and the local traces', async () => {
    for (const name of ['hello', 'copy', 'cut']) {
      const s = parse<WorkspaceStatus>(await h.run(['workspace', 'status', name, '--json']), 'status');
      assert.equal((await h.run(['workspace', 'rm', name, '--force'])).code, 0);
      assert.equal(existsSync(s.nodeFolder!), false, `${s.nodeFolder} is gone`);
    }
    assert.deepEqual(await containers(), []);
    assert.deepEqual(parse<WorkspaceSummary[]>(await h.run(['workspace', 'list', '--json']), 'list'), []);
    assert.doesNotMatch(readFileSync(join(h.home, 'ssh_config'), 'utf8'), /^Host /m);
    assert.doesNotMatch(readFileSync(join(h.home, 'known_hosts'), 'utf8'), /\.vendetta /);
  });
});
