/**
 * The Docker provider's less travelled paths against a real engine: images built on the node
 * from a `docker.build` context in the synced project (through the built agent), and commands
 * run inside a container (streams, exit codes, stdin, TTY).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResponseError } from 'vscode-jsonrpc';
import { CreateWorkspace, RemoveWorkspace, type AgentErrorData, type WorkspaceSpec } from '../../agent/protocol';
import { dockerCalls } from '../../agent/providers/docker/api';
import { DockerProvider } from '../../agent/providers/docker/provider';
import { tarBuffer, type TarInput } from '../../common/tar/encode';
import { startDockerd, type Dockerd } from '../infra/docker';
import { BUSYBOX_IMAGE, ensureBusyboxImage, ensureTestImage, TEST_IMAGE } from '../infra/image';
import { requireCommands, requireRoot } from '../infra/sys';
import { AGENT_JS, Attached, buildBundles, cleanStaleHomes, TestHome } from './agentHarness';

describe('docker workspaces: images built on the node, commands inside', function () {
  this.timeout(120_000);
  let dockerd: Dockerd | undefined;
  let home: TestHome | undefined;
  let dir: string;
  let agent: Attached;
  let pub: string;

  before(async function () {
    // Importing the cached Debian image into a fresh engine takes minutes when other files load the machine.
    this.timeout(600_000);
    requireRoot(this, 'the Docker build and exec suite');
    requireCommands(this, 'the Docker build and exec suite', ['dockerd', 'nsenter', 'ssh-keygen', 'debootstrap']);
    buildBundles();
    await cleanStaleHomes();
    dir = mkdtempSync(join(tmpdir(), 'vendetta-ws-build-'));
    dockerd = await startDockerd({ dir: join(dir, 'dockerd'), ownNetns: true });
    await ensureTestImage(dockerd.socket);
    await ensureBusyboxImage(dockerd.socket);
    const key = join(dir, 'id');
    assert.equal(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status, 0);
    pub = spawnSync('cat', [`${key}.pub`], { encoding: 'utf8' }).stdout.trim();
    home = TestHome.create({ DOCKER_HOST: dockerd.host });
    agent = new Attached(
      spawn('nsenter', [...dockerd.nsenter.slice(1, -1), '--', process.execPath, AGENT_JS, 'attach'], {
        env: home.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    home.pids.add((await agent.initialize()).pid);
  });

  after(async () => {
    await home?.dispose();
    await dockerd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const spec = (name: string, image: string, dockerfile?: string): WorkspaceSpec => ({
    name,
    provider: 'docker',
    docker: { image, build: { context: '.devcontainer', ...(dockerfile ? { dockerfile } : {}) } },
    env: {},
    user: 'root',
    workspaceFolder: `/workspaces/${name}`,
    authorizedKeys: [pub],
  });

  function sync(workspace: string, files: TarInput[]): void {
    const tar = tarBuffer([
      { path: '.vendetta-sync.json', type: 'file', mode: 0o600, data: '{"delete":[]}' },
      ...files,
    ]);
    const r = spawnSync(process.execPath, [AGENT_JS, 'sync-receive', workspace], {
      input: tar,
      env: home!.env,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  }

  async function refusal(p: Promise<unknown>): Promise<{ message: string; data: AgentErrorData }> {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof ResponseError, String(err));
      return { message: err.message, data: err.data as AgentErrorData };
    }
    assert.fail('expected a refusal');
  }

  it('asks for the project first, then builds the image from its context and runs it', async () => {
    const s = spec('built', 'vendetta-ws/built:1', 'Dockerfile.dev');
    const early = await refusal(agent.conn.sendRequest(CreateWorkspace, { spec: s }));
    assert.equal(early.data.code, 'BUILD_CONTEXT_MISSING');
    assert.match(early.message, /build context \.devcontainer is not in the project folder/);
    assert.match(early.data.hint!, /Sync the project/);
    // The record stays, so the project can be synced into it…
    sync('built', [
      {
        path: '.devcontainer/Dockerfile.dev',
        type: 'file',
        mode: 0o644,
        data: `FROM ${TEST_IMAGE}\nCOPY marker /etc/marker\nRUN echo built-on-node > /etc/built\n`,
      },
      { path: '.devcontainer/marker', type: 'file', mode: 0o644, data: 'from the context\n' },
    ]);
    // …and the next create builds from it.
    const info = await agent.conn.sendRequest(CreateWorkspace, { spec: s });
    assert.equal(info.state, 'running');
    const provider = DockerProvider.forSocket(dockerd!.socket);
    const r = await provider.exec(info.providerId!, ['cat', '/etc/built', '/etc/marker']);
    assert.deepEqual([r.exitCode, r.stdout], [0, 'built-on-node\nfrom the context\n']);
    await agent.conn.sendRequest(RemoveWorkspace, { name: 'built', force: true });
  });

  it('reports a failing build with its output', async () => {
    const s = spec('badbuild', 'vendetta-ws/badbuild:1');
    await refusal(agent.conn.sendRequest(CreateWorkspace, { spec: s }));
    sync('badbuild', [
      {
        path: '.devcontainer/Dockerfile',
        type: 'file',
        mode: 0o644,
        data: `FROM ${TEST_IMAGE}\nRUN echo about to fail && exit 7\n`,
      },
    ]);
    const failed = await refusal(agent.conn.sendRequest(CreateWorkspace, { spec: s }));
    assert.equal(failed.data.code, 'BUILD_FAILED');
    assert.match(failed.message, /Building the image vendetta-ws\/badbuild:1 failed: .*returned a non-zero code: 7/);
    assert.match(failed.data.hint!, /about to fail/);
    await agent.conn.sendRequest(RemoveWorkspace, { name: 'badbuild', force: true });
  });

  describe('commands inside a container', () => {
    let provider: DockerProvider;
    let id: string;
    before(async () => {
      provider = DockerProvider.forSocket(dockerd!.socket);
      id = (
        (
          await dockerd!.engine.json(
            dockerCalls.containerCreate('execs', { Image: BUSYBOX_IMAGE, Entrypoint: ['/bin/sleep'], Cmd: ['1000'] }),
          )
        ).value as { Id: string }
      ).Id;
      await dockerd!.engine.send(dockerCalls.containerStart(id));
    });

    it('returns exit codes and keeps stdout and stderr apart', async () => {
      assert.deepEqual(await provider.exec(id, ['sh', '-c', 'echo out; echo err >&2; exit 42']), {
        exitCode: 42,
        stdout: 'out\n',
        stderr: 'err\n',
      });
      assert.equal((await provider.exec(id, ['true'])).exitCode, 0);
      const missing = await provider.exec(id, ['/no/such/binary']);
      assert.notEqual(missing.exitCode, 0);
    });

    it('streams output as it comes, feeds stdin, and runs with a TTY', async () => {
      const chunks: string[] = [];
      const streamed = await provider.exec(id, ['sh', '-c', 'for i in 1 2 3; do echo $i; sleep 0.2; done'], {
        onStdout: (c) => chunks.push(c.toString()),
      });
      assert.equal(streamed.stdout, '', 'a sink gets the output instead of the result');
      assert.equal(chunks.join(''), '1\n2\n3\n');
      assert.ok(chunks.length >= 2, `output arrived in ${chunks.length} piece(s), not all at the end`);
      const big = Buffer.alloc(300_000, 'x');
      const echoed = await provider.exec(id, ['sh', '-c', 'cat | wc -c'], { stdin: big });
      assert.deepEqual([echoed.exitCode, echoed.stdout.trim()], [0, '300000']);
      const tty = await provider.exec(id, ['sh', '-c', 'test -t 1 && echo tty; echo err >&2'], { tty: true });
      assert.equal(tty.exitCode, 0);
      assert.equal(tty.stdout.replace(/\r/g, ''), 'tty\nerr\n', 'with a TTY both streams arrive as one');
      const env = await provider.exec(id, ['sh', '-c', 'echo $GREETING; pwd'], {
        env: { GREETING: 'hi there' },
        workingDir: '/tmp',
      });
      assert.equal(env.stdout, 'hi there\n/tmp\n');
    });

    it('says when the container is stopped or gone', async () => {
      await dockerd!.engine.send(dockerCalls.containerStop(id, 0));
      await assert.rejects(
        provider.exec(id, ['true']),
        (e: Error & { code?: string }) => e.code === 'WORKSPACE_NOT_RUNNING',
      );
      await dockerd!.engine.send(dockerCalls.containerRemove(id));
      await assert.rejects(
        provider.exec(id, ['true']),
        (e: Error & { code?: string }) => e.code === 'WORKSPACE_MISSING',
      );
      await assert.rejects(provider.start(id), (e: Error & { code?: string }) => e.code === 'WORKSPACE_MISSING');
      assert.equal(await provider.inspect(id), undefined);
      await provider.remove(id); // gone already: nothing to do
    });
  });
});
