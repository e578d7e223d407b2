/**
 * Workspaces through the BUILT agent against a real, private dockerd in its own network
 * namespace (a node, as far as the agent can tell), reached with the real OpenSSH client.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResponseError } from 'vscode-jsonrpc';
import {
  CreateWorkspace,
  InspectWorkspace,
  ListWorkspaces,
  RemoveWorkspace,
  Shutdown,
  StartWorkspace,
  StopWorkspace,
  SyncScan,
  WORKSPACE_LABEL,
  WorkspaceProgress,
  type AgentErrorData,
  type WorkspaceInfo,
  type DockerWorkspaceSpec,
  type WorkspaceSpec,
} from '../../agent/protocol';
import { containerCreateBody, dockerCalls } from '../../agent/providers/docker/api';
import { parseContainerList } from '../../agent/providers/docker/parse';
import { tarBuffer } from '../../common/tar/encode';
import { startDockerd, type Dockerd } from '../infra/docker';
import { ensureBusyboxImage, ensureTestImage, TEST_IMAGE } from '../infra/image';
import { requireCommands, requireRoot } from '../infra/sys';
import { AGENT_JS, Attached, buildBundles, cleanStaleHomes, TestHome, waitFor } from './agentHarness';

describe('workspaces on a real Docker engine, through the built agent', function () {
  this.timeout(120_000);
  let dockerd: Dockerd | undefined;
  let home: TestHome | undefined;
  let dir: string;
  let agent: Attached;
  let clientKey: string;
  let pub: string;

  /** `attach` run inside the engine's network namespace, where the published ports are. */
  async function attach(): Promise<Attached> {
    const a = new Attached(
      spawn('nsenter', [...dockerd!.nsenter.slice(1, -1), '--', process.execPath, AGENT_JS, 'attach'], {
        env: home!.env,
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    const init = await a.initialize();
    home!.pids.add(init.pid);
    return a;
  }

  const spec = (name: string, over: Partial<DockerWorkspaceSpec> = {}): DockerWorkspaceSpec => ({
    name,
    provider: 'docker',
    docker: { image: TEST_IMAGE, cpus: 1, memoryBytes: 512 * 1024 * 1024, pids: 256 },
    env: { NODE_ENV: 'development' },
    user: 'root',
    workspaceFolder: `/workspaces/${name}`,
    authorizedKeys: [pub],
    ...over,
  });

  const create = (s: WorkspaceSpec): Promise<WorkspaceInfo> => agent.conn.sendRequest(CreateWorkspace, { spec: s });

  async function refusal(p: Promise<unknown>): Promise<{ message: string; data: AgentErrorData }> {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof ResponseError, String(err));
      return { message: err.message, data: err.data as AgentErrorData };
    }
    assert.fail('expected the agent to refuse');
  }

  /** The real ssh client, in the engine's namespace, trusting exactly the reported host key. */
  function ssh(
    info: WorkspaceInfo,
    command: string,
    opts: { user?: string; hostKey?: string } = {},
  ): { status: number | null; stdout: string; stderr: string } {
    assert.ok(info.ssh, `workspace ${info.name} has no ssh endpoint (state ${info.state})`);
    const knownHosts = join(dir, `known_hosts-${info.name}-${info.ssh.port}`);
    writeFileSync(knownHosts, `[127.0.0.1]:${info.ssh.port} ${opts.hostKey ?? info.ssh.hostKey.publicKey}\n`);
    const r = spawnSync(
      'nsenter',
      [
        ...dockerd!.nsenter.slice(1, -1),
        '--',
        'ssh',
        '-F',
        '/dev/null',
        '-i',
        clientKey,
        '-p',
        String(info.ssh.port),
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'BatchMode=yes',
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'ConnectTimeout=10',
        `${opts.user ?? info.user}@127.0.0.1`,
        command,
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  async function containers(name?: string) {
    const all = parseContainerList((await dockerd!.engine.json(dockerCalls.containerList())).value);
    return name ? all.filter((w) => w.name === name) : all;
  }

  before(async function () {
    this.timeout(300_000);
    requireRoot(this, 'the Docker workspace suite');
    requireCommands(this, 'the Docker workspace suite', ['dockerd', 'nsenter', 'ssh', 'ssh-keygen', 'debootstrap']);
    buildBundles();
    await cleanStaleHomes();
    dir = mkdtempSync(join(tmpdir(), 'vendetta-ws-it-'));
    dockerd = await startDockerd({ dir: join(dir, 'dockerd'), ownNetns: true });
    const t0 = Date.now();
    const image = await ensureTestImage(dockerd.socket);
    console.log(
      `      image ${TEST_IMAGE}: ${image.built ? `built in ${image.buildMs} ms (cold), ` : 'cached tarball, '}imported in ${image.importMs} ms; ready after ${Date.now() - t0} ms`,
    );
    await ensureBusyboxImage(dockerd.socket);
    clientKey = join(dir, 'id_ed25519');
    assert.equal(
      spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'it@test', '-f', clientKey]).status,
      0,
    );
    pub = readFileSync(`${clientKey}.pub`, 'utf8').trim();
    home = TestHome.create({ DOCKER_HOST: dockerd.host });
    agent = await attach();
  });

  after(async () => {
    await home?.dispose();
    await dockerd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates a running workspace whose sshd answers with exactly the reported host key', async () => {
    const progress: string[] = [];
    agent.conn.onNotification(WorkspaceProgress, (p) => {
      progress.push(`${p.token} ${p.step}/${p.total}`);
    });
    const info = await agent.conn.sendRequest(CreateWorkspace, { spec: spec('alpha'), progressToken: 'tok' });
    assert.equal(info.state, 'running');
    assert.equal(info.ssh?.host, '127.0.0.1');
    assert.match(info.ssh!.hostKey.fingerprint, /^SHA256:/);
    assert.deepEqual(progress.slice(-1), ['tok 5/5']);
    writeFileSync(join(info.nodeFolder, 'hello.txt'), 'hello from the node\n');
    const r = ssh(
      info,
      'cat /workspaces/alpha/hello.txt; echo "env=$NODE_ENV"; id -un; cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; cat /sys/fs/cgroup/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids/pids.max',
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      `hello from the node\nenv=development\nroot\n${512 * 1024 * 1024}\n256\n`,
      'env and limits reach the workspace',
    );
    // Any other key for that address is refused: the pin means something.
    const other = readFileSync(join(home!.home, 'workspaces/alpha/ssh_host_ed25519_key.pub'), 'utf8').replace(
      /AAAA\S+/,
      'AAAAC3NzaC1lZDI1NTE5AAAAIEaAlIAOWFiM2S5k6XtIb60EpQQNCjFD8D/C4tkrR5nY',
    );
    const wrong = ssh(info, 'true', { hostKey: other.split(' ').slice(0, 2).join(' ') });
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
    // Loopback only: the port is not published on any other address.
    const c = (await containers('alpha'))[0]!;
    const inspect = (await dockerd!.engine.json(dockerCalls.containerInspect(c.providerId))).value as {
      HostConfig: { PortBindings: Record<string, Array<{ HostIp: string }>> };
    };
    assert.deepEqual(
      inspect.HostConfig.PortBindings['22/tcp']!.map((b) => b.HostIp),
      ['127.0.0.1'],
    );
  });

  it('keeps a file written inside and its SSH node port across stop and start; a port taken meanwhile is a clear refusal; create twice makes one container', async () => {
    const first = await create(spec('beta'));
    const sshPort = first.ssh!.port;
    const inspected = (await dockerd!.engine.json(dockerCalls.containerInspect(first.providerId!))).value as {
      HostConfig: { PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> };
    };
    assert.deepEqual(
      inspected.HostConfig.PortBindings['22/tcp'],
      [{ HostIp: '127.0.0.1', HostPort: String(sshPort) }],
      'the agent chose the node port, not the engine',
    );
    assert.equal(ssh(first, 'echo kept > /root/inside.txt && echo shared > /workspaces/beta/out.txt').status, 0);
    assert.equal(readFileSync(join(first.nodeFolder, 'out.txt'), 'utf8'), 'shared\n');
    const stopped = await agent.conn.sendRequest(StopWorkspace, { name: 'beta' });
    assert.deepEqual([stopped.state, stopped.ssh], ['stopped', null]);
    // Something else on the node takes the port while the workspace is stopped.
    const squatter = spawn(
      'nsenter',
      [
        ...dockerd!.nsenter.slice(1, -1),
        '--',
        process.execPath,
        '-e',
        `require('net').createServer().listen(${sshPort}, '127.0.0.1', () => console.log('listening'))`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        squatter.stdout.once('data', () => resolve());
        squatter.once('exit', (code) => reject(new Error(`the listener exited ${code}`)));
      });
      const refused = await refusal(agent.conn.sendRequest(StartWorkspace, { name: 'beta' }));
      assert.equal(
        refused.message,
        `Workspace beta cannot start: port ${sshPort} on the node's 127.0.0.1 (where the workspace's SSH server is published) is taken by another process`,
      );
      assert.match(refused.data.hint ?? '', /vendetta workspace up --recreate/);
    } finally {
      if (squatter.exitCode === null && squatter.signalCode === null) {
        const exited = new Promise((r) => squatter.once('exit', r));
        squatter.kill('SIGKILL');
        await exited;
      }
    }
    const started = await agent.conn.sendRequest(StartWorkspace, { name: 'beta' });
    assert.equal(started.state, 'running');
    assert.equal(started.ssh?.port, sshPort, 'the same node port after stop and start');
    assert.equal(started.ssh?.hostKey.publicKey, first.ssh?.hostKey.publicKey);
    assert.equal(ssh(started, 'cat /root/inside.txt').stdout, 'kept\n');
    const again = await create(spec('beta'));
    assert.equal(again.providerId, first.providerId);
    await agent.conn.sendRequest(StopWorkspace, { name: 'beta' });
    const restarted = await create(spec('beta'));
    assert.equal(restarted.state, 'running', 'create of a stopped workspace starts it');
    assert.equal((await containers('beta')).length, 1);
  });

  it('reports a container removed behind its back as missing, and forgets it only with force', async () => {
    const info = await create(spec('gone'));
    await dockerd!.engine.send(dockerCalls.containerRemove(info.providerId!));
    const seen = await agent.conn.sendRequest(InspectWorkspace, { name: 'gone' });
    assert.equal(seen.state, 'missing');
    assert.equal(seen.error?.code, 'WORKSPACE_MISSING');
    assert.equal((await agent.conn.sendRequest(ListWorkspaces, {})).find((w) => w.name === 'gone')?.state, 'missing');
    assert.equal(
      (await refusal(agent.conn.sendRequest(RemoveWorkspace, { name: 'gone' }))).data.code,
      'WORKSPACE_MISSING',
    );
    await agent.conn.sendRequest(RemoveWorkspace, { name: 'gone', force: true });
    assert.equal(existsSync(join(home!.home, 'workspaces/gone')), false);
  });

  it('adopts its own labelled container that has no state record instead of making a duplicate, and leaves others alone', async () => {
    // What a create killed between `containers/create` and saving its record leaves behind.
    const nodeFolder = join(home!.home, 'workspaces/gamma/src');
    mkdirSync(nodeFolder, { recursive: true });
    const body = containerCreateBody({
      spec: spec('gamma'),
      nodeFolder,
      labels: { 'dev.vendetta.agent-home': home!.home },
      command: ['/usr/sbin/sshd', '-D', '-e', '-f', '/etc/vendetta/sshd_config'],
      sshNodePort: 47022, // the engine's namespace is this suite's own: nothing else listens there
    });
    const made = (await dockerd!.engine.json(dockerCalls.containerCreate('vendetta-gamma', body))).value as {
      Id: string;
    };
    const info = await create(spec('gamma'));
    assert.equal(info.providerId, made.Id);
    assert.equal(info.state, 'running');
    assert.equal(info.ssh?.port, 47022, 'an adopted container keeps its bindings, and the agent reports them');
    assert.equal(ssh(info, 'hostname').stdout, 'gamma\n');
    assert.equal((await containers('gamma')).length, 1);
    // A container of that name that is not ours — unlabelled, or another agent's — is never touched.
    await dockerd!.engine.json(dockerCalls.containerCreate('vendetta-delta', { Image: TEST_IMAGE, Cmd: ['true'] }));
    const foreign = containerCreateBody({
      spec: spec('eps'),
      nodeFolder,
      labels: { 'dev.vendetta.agent-home': '/home/someone-else/.vendetta-agent' },
      command: ['/bin/true'],
      sshNodePort: 47023,
    });
    const theirs = (await dockerd!.engine.json(dockerCalls.containerCreate('vendetta-eps', foreign))).value as {
      Id: string;
    };
    for (const name of ['delta', 'eps']) {
      const r = await refusal(create(spec(name)));
      assert.equal(r.data.code, 'WORKSPACE_CONFLICT', r.message);
      assert.match(r.message, new RegExp(`A container named vendetta-${name} already exists`));
    }
    assert.equal((await dockerd!.engine.send(dockerCalls.containerInspect(theirs.Id))).status, 200);
    const listed = (await agent.conn.sendRequest(ListWorkspaces, {})).map((w) => w.name);
    assert.ok(!listed.includes('delta') && !listed.includes('eps'), 'a refused create leaves no record');
  });

  it('completes a create whose agent was killed mid-way, without a duplicate container', async () => {
    const pending = create(spec('killed')).then(
      () => 'finished',
      () => 'cut',
    );
    const until = Date.now() + 20_000;
    while ((await containers('killed')).length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    const daemonPid = home!.lockPid()!;
    process.kill(daemonPid, 'SIGKILL');
    await waitFor('the killed daemon to be gone', () => !home!.isAlive(daemonPid));
    await agent.close();
    assert.equal(await pending, 'cut');
    agent = await attach();
    const info = await create(spec('killed'));
    assert.equal(info.state, 'running');
    assert.equal(ssh(info, 'echo ok').stdout, 'ok\n');
    assert.equal((await containers('killed')).length, 1);
  });

  it('still knows its workspaces after a daemon restart, and lists them', async () => {
    const before = await agent.conn.sendRequest(ListWorkspaces, {});
    const pid = home!.lockPid()!;
    await agent.conn.sendRequest(Shutdown);
    await waitFor('the daemon to stop', () => !home!.isAlive(pid));
    agent = await attach();
    const after = await agent.conn.sendRequest(ListWorkspaces, {});
    assert.deepEqual(
      after.map((w) => [w.name, w.state, w.ssh?.port]),
      before.map((w) => [w.name, w.state, w.ssh?.port]),
      'the same workspaces, states and SSH node ports',
    );
    const alpha = after.find((w) => w.name === 'alpha')!;
    assert.equal(ssh(alpha, 'cat /workspaces/alpha/hello.txt').stdout, 'hello from the node\n');
  });

  it('runs two workspaces side by side without sharing ports, names or folders', async () => {
    const [one, two] = await Promise.all([create(spec('one')), create(spec('two', { user: 'dev' }))]);
    assert.notEqual(one.ssh?.port, two.ssh?.port);
    assert.notEqual(one.nodeFolder, two.nodeFolder);
    assert.notEqual(one.providerId, two.providerId);
    assert.notEqual(one.ssh?.hostKey.fingerprint, two.ssh?.hostKey.fingerprint);
    writeFileSync(join(one.nodeFolder, 'who'), 'one\n');
    writeFileSync(join(two.nodeFolder, 'who'), 'two\n');
    assert.equal(ssh(one, 'cat /workspaces/one/who; ls /workspaces').stdout, 'one\none\n');
    const dev = ssh(
      two,
      'cat /workspaces/two/who; id -un; echo $HOME; touch /workspaces/two/mine && stat -c %U /workspaces/two/mine',
    );
    assert.equal(dev.stdout, 'two\ndev\n/home/dev\ndev\n', dev.stderr);
    // Code synced by a root agent belongs to the login user too.
    const synced = spawnSync(process.execPath, [AGENT_JS, 'sync-receive', 'two'], {
      input: tarBuffer([
        { path: '.vendetta-sync.json', type: 'file', mode: 0o600, data: '{"delete":[]}' },
        { path: 'src/app.js', type: 'file', mode: 0o644, data: '1' },
      ]),
      env: home!.env,
      encoding: 'utf8',
    });
    assert.equal(synced.status, 0, synced.stdout);
    assert.equal(
      ssh(
        two,
        'stat -c %U /workspaces/two/src /workspaces/two/src/app.js && echo 2 > /workspaces/two/src/app.js && cat /workspaces/two/src/app.js',
      ).stdout,
      'dev\ndev\n2\n',
    );
    assert.notEqual(ssh(two, 'true', { user: 'root' }).status, 0, 'only the configured login user has the key');
  });

  it('removes a workspace completely: container, folder, host key files and record', async () => {
    const info = await create(spec('doomed'));
    assert.equal(
      (await refusal(agent.conn.sendRequest(RemoveWorkspace, { name: 'doomed' }))).data.code,
      'WORKSPACE_RUNNING',
    );
    assert.deepEqual(await agent.conn.sendRequest(RemoveWorkspace, { name: 'doomed', force: true }), {
      name: 'doomed',
    });
    assert.deepEqual(await containers('doomed'), []);
    assert.equal((await dockerd!.engine.send(dockerCalls.containerInspect(info.providerId!))).status, 404);
    assert.equal(existsSync(join(home!.home, 'workspaces/doomed')), false);
    assert.equal(
      (await refusal(agent.conn.sendRequest(InspectWorkspace, { name: 'doomed' }))).data.code,
      'WORKSPACE_NOT_FOUND',
    );
    const state = JSON.parse(readFileSync(join(home!.home, 'state/workspaces.json'), 'utf8')) as {
      workspaces: Record<string, unknown>;
    };
    assert.equal('doomed' in state.workspaces, false);
  });

  it('says clearly when an image the node lacks cannot be pulled (no network here), and leaves nothing behind', async () => {
    const missing = await refusal(create(spec('noimage', { docker: { image: 'vendetta-test/does-not-exist:1' } })));
    assert.equal(missing.data.code, 'IMAGE_PULL_FAILED');
    assert.match(missing.message, /^Could not pull vendetta-test\/does-not-exist:1 from docker\.io: /);
    assert.match(missing.data.hint!, /Check that the node reaches docker\.io/);
    assert.deepEqual(await containers('noimage'), []);
    assert.ok(!existsSync(join(home!.home, 'workspaces/noimage')));
    const names = (await agent.conn.sendRequest(ListWorkspaces, {})).map((w) => w.name);
    assert.ok(!names.includes('noimage'));
  });

  it('refuses hostile names and specs before touching anything', async () => {
    const before = readdirSync(join(home!.home, 'workspaces')).sort();
    for (const name of ['../x', 'a;b', '-oProxyCommand=x', '', 'A', 'x'.repeat(64), '$(reboot)']) {
      assert.equal((await refusal(create(spec(name)))).data.code, 'INVALID_PARAMS', name);
      assert.equal(
        (await refusal(agent.conn.sendRequest(RemoveWorkspace, { name, force: true }))).data.code,
        'INVALID_PARAMS',
      );
    }
    assert.equal((await refusal(create(spec('ok', { workspaceFolder: '/etc' })))).data.code, 'INVALID_PARAMS');
    assert.equal(
      (await refusal(create(spec('ok', { authorizedKeys: ['command="x" ssh-ed25519 AAAA'] })))).data.code,
      'INVALID_PARAMS',
    );
    assert.equal((await refusal(create(spec('ok', { env: { 'A;B': 'x' } })))).data.code, 'INVALID_PARAMS');
    assert.deepEqual(readdirSync(join(home!.home, 'workspaces')).sort(), before);
    assert.ok(!(await containers()).some((w) => w.labels[WORKSPACE_LABEL] === 'ok'));
  });

  it('receives code through sync-receive and refuses hostile tar entries', async () => {
    const info = await create(spec('synced'));
    const run = (workspace: string, tar: Buffer) =>
      spawnSync(process.execPath, [AGENT_JS, 'sync-receive', workspace], {
        input: tar,
        env: home!.env,
        encoding: 'utf8',
      });
    const header = (del: string[] = []) => ({
      path: '.vendetta-sync.json',
      type: 'file' as const,
      mode: 0o600,
      data: JSON.stringify({ delete: del }),
    });
    const ok = run(
      'synced',
      tarBuffer([
        header(),
        { path: 'README.md', type: 'file', mode: 0o644, mtimeMs: 1_700_000_000_500, data: '# synced\n' },
        { path: 'bin/x', type: 'file', mode: 0o755, data: 'x' },
      ]),
    );
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), { written: 2, deleted: 0, bytes: 10 });
    assert.equal(
      ssh(info, 'cat /workspaces/synced/README.md; stat -c %a /workspaces/synced/bin/x').stdout,
      '# synced\n755\n',
    );
    const scan = await agent.conn.sendRequest(SyncScan, {
      name: 'synced',
      entries: [{ path: 'README.md' }, { path: 'bin/x' }, { path: 'absent' }],
    });
    assert.deepEqual(
      scan.changes.map((c) => [c.i, c.kind, c.id?.slice(0, 2), c.stat?.size]),
      [
        [0, 'file', 'f:', 9],
        [1, 'file', 'x:', 1],
      ],
    );
    assert.equal(scan.changes[0]!.stat!.mtimeMs, 1_700_000_000_500);
    const outside = join(dir, 'outside');
    mkdirSync(outside, { recursive: true });
    for (const [entry, why] of [
      [{ path: '../../outside/evil', type: 'file', mode: 0o644, data: 'x' }, /contains "\.\."/],
      [{ path: `${outside}/evil`, type: 'file', mode: 0o644, data: 'x' }, /absolute path/],
      [{ path: 'link', type: 'symlink', mode: 0o777, linkname: outside }, /symlink to the absolute path/],
      [{ path: 'up', type: 'symlink', mode: 0o777, linkname: '../../../..' }, /outside the project/],
    ] as const) {
      const r = run('synced', tarBuffer([header(), entry]));
      assert.equal(r.status, 1);
      const err = (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error;
      assert.equal(err.code, 'SYNC_REFUSED');
      assert.match(err.message, why);
      assert.match(r.stderr, /^error: The sync stream was refused/);
    }
    assert.deepEqual(readdirSync(outside), []);
    const unknown = run('nope', tarBuffer([header()]));
    assert.equal(unknown.status, 1);
    assert.equal((JSON.parse(unknown.stdout) as { error: { code: string } }).error.code, 'WORKSPACE_NOT_FOUND');
    assert.equal(run('../x', Buffer.alloc(0)).status, 2);
  });

  it('is about as fast as a raw `docker run` of the same image, measured the same way', async () => {
    // Both from "go" to an SSH banner on the published loopback port, in the engine's namespace.
    const baseline = `
      const { execFileSync } = require('child_process'); const net = require('net');
      const t0 = Date.now();
      const id = execFileSync('docker', ['run', '-d', '-p', '127.0.0.1::22', '--entrypoint', '/bin/sh', process.argv[1], '-c',
        'ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key && exec /usr/sbin/sshd -D -e'], { encoding: 'utf8' }).trim();
      const port = Number(execFileSync('docker', ['port', id, '22/tcp'], { encoding: 'utf8' }).trim().split(':').pop());
      let done = false;
      (function attempt() {
        const s = net.connect(port, '127.0.0.1'); let got = ''; let retried = false;
        const retry = () => { if (!done && !retried) { retried = true; s.destroy(); setTimeout(attempt, 10); } };
        s.on('data', (c) => { got += c; if (got.startsWith('SSH-') && !done) { done = true; console.log(JSON.stringify({ ms: Date.now() - t0, id })); process.exit(0); } });
        s.on('error', retry); s.on('close', retry);
      })();`;
    const raw: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = spawnSync(
        'nsenter',
        [...dockerd!.nsenter.slice(1, -1), '--', process.execPath, '-e', baseline, TEST_IMAGE],
        { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: dockerd!.host }, timeout: 60_000 },
      );
      assert.equal(r.status, 0, r.stderr);
      raw.push((JSON.parse(r.stdout) as { ms: number }).ms);
      const t0 = Date.now();
      const info = await create(spec(`timed-${i}`));
      ours.push(Date.now() - t0);
      assert.equal(info.state, 'running');
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `      create → sshd ready: agent ${median(ours)} ms (${ours.join(', ')}), raw docker run ${median(raw)} ms (${raw.join(', ')}), ratio ${(median(ours) / median(raw)).toFixed(2)}`,
    );
    assert.ok(
      median(ours) < 3 * median(raw) + 500,
      `the agent took ${median(ours)} ms against ${median(raw)} ms for docker run`,
    );
  });
});
