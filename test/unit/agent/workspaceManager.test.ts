import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../../agent/errors';
import { nullLogger } from '../../../agent/log/logger';
import { specImage, WORKSPACE_LABEL, type DockerWorkspaceSpec } from '../../../agent/protocol';
import {
  NodePortTakenError,
  type ExecOptions,
  type ExecResult,
  type ProviderCreateRequest,
  type ProviderWorkspace,
  type WorkspaceFile,
  type WorkspaceProvider,
} from '../../../agent/providers/contract';
import { pullError } from '../../../agent/providers/docker/pull';
import { fingerprintOfLine } from '../../../agent/workspaces/hostKey';
import { AGENT_HOME_LABEL, WorkspaceManager } from '../../../agent/workspaces/manager';
import { workspaceStateFile } from '../../../agent/workspaces/paths';

/** An in-memory provider: containers, their files and users, an SSH "server" that answers with a banner. */
class FakeProvider implements WorkspaceProvider {
  readonly name = 'docker' as const;
  readonly publishedPortsArrive = 'address' as const;
  readonly containers = new Map<
    string,
    { ws: ProviderWorkspace; files: Map<string, WorkspaceFile>; users: Map<string, number> }
  >();
  images = new Set(['img']);
  hasSshd = true;
  unreachable = false;
  created = 0;
  execs: string[][] = [];
  /** What `refusal` answers for every spec. */
  refuse: AgentError | undefined;
  private next = 1;

  constructor(private readonly port: () => number) {}

  private check(): void {
    if (this.unreachable)
      throw new AgentError('PROVIDER_UNAVAILABLE', 'Docker could not list: no Docker engine answers', {
        hint: 'start it',
      });
  }

  refusal(): AgentError | undefined {
    return this.refuse;
  }

  async create(req: ProviderCreateRequest): Promise<ProviderWorkspace> {
    this.check();
    let c = req.adopt ? this.containers.get(req.adopt) : undefined;
    if (!c) {
      if (!this.images.has(specImage(req.spec))) throw pullError(specImage(req.spec), 'docker.io', 'manifest unknown');
      const id = String(this.next++).padStart(12, 'a');
      c = {
        ws: {
          name: req.spec.name,
          providerId: id,
          state: 'created',
          image: specImage(req.spec),
          nodeFolder: req.nodeFolder,
          labels: { ...req.labels, [WORKSPACE_LABEL]: req.spec.name },
        },
        files: new Map(),
        users: new Map([['root', 0]]),
      };
      this.containers.set(id, c);
      this.created++;
    }
    if (!this.hasSshd) {
      this.containers.delete(c.ws.providerId);
      throw new AgentError('SSHD_MISSING', 'no sshd');
    }
    for (const f of req.seedFiles) c.files.set(f.path, f);
    return structuredClone(c.ws);
  }

  /** A container as a killed create leaves it: labelled, never started. */
  orphan(name: string, labels: Record<string, string> = {}): string {
    const id = String(this.next++).padStart(12, 'b');
    this.containers.set(id, {
      ws: { name, providerId: id, state: 'created', image: 'img', labels: { ...labels, [WORKSPACE_LABEL]: name } },
      files: new Map(),
      users: new Map([['root', 0]]),
    });
    return id;
  }

  private get(id: string) {
    this.check();
    const c = this.containers.get(id);
    if (!c) throw new AgentError('WORKSPACE_MISSING', 'gone');
    return c;
  }

  async start(id: string): Promise<ProviderWorkspace> {
    const c = this.get(id);
    c.ws = { ...c.ws, state: 'running', sshPort: this.port(), startedAt: new Date().toISOString() };
    return structuredClone(c.ws);
  }

  async stop(id: string): Promise<void> {
    const c = this.get(id);
    c.ws = { ...c.ws, state: 'stopped', sshPort: undefined, startedAt: undefined };
  }

  async remove(id: string): Promise<void> {
    this.check();
    this.containers.delete(id);
  }

  async inspect(id: string): Promise<ProviderWorkspace | undefined> {
    this.check();
    const c = this.containers.get(id);
    return c && structuredClone(c.ws);
  }

  async list(): Promise<ProviderWorkspace[]> {
    this.check();
    return [...this.containers.values()].map((c) => structuredClone(c.ws));
  }

  async putFiles(id: string, files: WorkspaceFile[]): Promise<void> {
    const c = this.get(id);
    for (const f of files) c.files.set(f.path, f);
  }

  async exec(id: string, argv: string[], _opts?: ExecOptions): Promise<ExecResult> {
    const c = this.get(id);
    this.execs.push(argv);
    if (argv[0] === 'id') {
      const uid = c.users.get(argv[2]!);
      return uid === undefined
        ? { exitCode: 1, stdout: '', stderr: 'no such user' }
        : { exitCode: 0, stdout: `${uid}\n`, stderr: '' };
    }
    if (argv[0] === 'useradd') {
      c.users.set(argv.at(-1)!, 1000 + c.users.size);
      return { exitCode: 0, stdout: '', stderr: '' };
    }
    return { exitCode: 0, stdout: '', stderr: '' };
  }

  async logs(): Promise<string> {
    return 'sshd: fatal: something';
  }
}

const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEaAlIAOWFiM2S5k6XtIb60EpQQNCjFD8D/C4tkrR5nY me';
const spec = (name = 'shop', over: Partial<DockerWorkspaceSpec> = {}): DockerWorkspaceSpec => ({
  name,
  provider: 'docker',
  docker: { image: 'img' },
  env: {},
  user: 'root',
  workspaceFolder: `/workspaces/${name}`,
  authorizedKeys: [key],
  ...over,
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AgentError, String(err));
    return err.code;
  }
  return 'resolved';
}

describe('the agent keeps its workspaces in step with the provider', () => {
  let home: string;
  let banner: Server;
  let port = 0;
  let provider: FakeProvider;
  const manager = (sshReadyTimeoutMs = 5_000) =>
    new WorkspaceManager({
      home,
      stateDir: join(home, 'state'),
      logger: nullLogger,
      providers: () => provider,
      sshReadyTimeoutMs,
    });

  before(async () => {
    banner = createServer((s) => s.end('SSH-2.0-OpenSSH_fake\r\n'));
    await new Promise<void>((r) => banner.listen(0, '127.0.0.1', r));
    port = (banner.address() as { port: number }).port;
  });
  after(() => new Promise<void>((r) => banner.close(() => r())));
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'vendetta-wsm-'));
    provider = new FakeProvider(() => port);
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  it('creates a running workspace whose sshd answered, with a pinned host key and a private state', async () => {
    const steps: string[] = [];
    const info = await manager().create(spec(), (step, total, message) => steps.push(`${step}/${total} ${message}`));
    assert.equal(info.state, 'running');
    assert.equal(info.ssh?.port, port);
    assert.equal(info.ssh?.host, '127.0.0.1');
    assert.equal(info.nodeFolder, join(home, 'workspaces/shop/src'));
    assert.ok(statSync(info.nodeFolder).isDirectory());
    const keyFile = join(home, 'workspaces/shop/ssh_host_ed25519_key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(fingerprintOfLine(readFileSync(`${keyFile}.pub`, 'utf8')), info.ssh?.hostKey.fingerprint);
    assert.equal(statSync(workspaceStateFile(join(home, 'state'))).mode & 0o777, 0o600);
    const c = provider.containers.get(info.providerId!)!;
    assert.equal(c.files.get('/etc/vendetta/ssh_host_ed25519_key')?.content, readFileSync(keyFile, 'utf8'));
    assert.equal(c.ws.labels[AGENT_HOME_LABEL], home);
    assert.deepEqual(
      steps.map((s) => s.slice(0, 3)),
      ['1/5', '2/5', '3/5', '4/5', '5/5'],
    );
  });

  it("makes nothing when the provider refuses the spec, and says the provider's reason", async () => {
    provider.refuse = new AgentError('INVALID_PARAMS', 'The mount of /home would give the workspace the agent folder');
    const m = manager();
    await assert.rejects(m.create(spec()), /would give the workspace the agent folder/);
    assert.equal(provider.created, 0);
    assert.equal(existsSync(join(home, 'workspaces/shop')), false);
    assert.deepEqual(await m.list(), []);
  });

  it("hands the request's signal to every provider call of a create, recreate, start, stop and remove", async () => {
    const signal = new AbortController().signal;
    const unsignalled: string[] = [];
    const called = new Set<string>();
    const watched = new Proxy(provider, {
      get(target, prop, receiver) {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (typeof v !== 'function' || prop === 'refusal') return v;
        return (...args: unknown[]) => {
          called.add(String(prop));
          if (!args.some((a) => (a as { signal?: unknown } | null)?.signal === signal)) unsignalled.push(String(prop));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const m = new WorkspaceManager({
      home,
      stateDir: join(home, 'state'),
      logger: nullLogger,
      providers: () => watched,
      sshReadyTimeoutMs: 5_000,
    });
    const gitIdentity = { name: 'Dev', email: 'dev@example.com' };
    await m.create(spec('dev', { user: 'dev', gitIdentity }), undefined, false, signal, { TOKEN: 'secret' });
    await m.start('dev', undefined, signal);
    await m.create(spec('dev', { user: 'dev', gitIdentity }), undefined, true, signal);
    await m.stop('dev', 'request', signal);
    await m.remove('dev', false, signal);
    const expected = ['create', 'start', 'stop', 'remove', 'exec', 'putFiles', 'inspect', 'list'];
    assert.ok(
      expected.every((c) => called.has(c)),
      [...called].join(),
    );
    assert.ok(
      provider.execs.some((a) => a.join(' ').includes('environment.vendetta-new')),
      'secrets were written',
    );
    assert.ok(
      provider.execs.some((a) => a.includes('[user]\n\tname = "Dev"\n\temail = "dev@example.com"\n')),
      'git identity',
    );
    assert.deepEqual(unsignalled, []);
  });

  it("sets up a create's login user, secrets and git identity while the workspace's sshd is still starting", async () => {
    // This sshd answers only once the git identity was written: a create that waited for it first never ends.
    let identityWritten = false;
    const slow = createServer((s) => (identityWritten ? s.end('SSH-2.0-OpenSSH_fake\r\n') : s.destroy()));
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    try {
      provider = new FakeProvider(() => (slow.address() as { port: number }).port);
      const exec = provider.exec.bind(provider);
      provider.exec = async (id, argv, opts) => {
        if (argv.some((a) => a.startsWith('[user]'))) identityWritten = true;
        return exec(id, argv, opts);
      };
      const gitIdentity = { name: 'Dev', email: 'dev@example.com' };
      const info = await manager(3_000).create(spec('dev', { user: 'dev', gitIdentity }), undefined, false, undefined, {
        TOKEN: 'secret',
      });
      assert.equal(info.state, 'running');
      assert.ok(identityWritten);
      const order = provider.execs.map((a) => a[0]);
      assert.ok(order.indexOf('useradd') < order.lastIndexOf('sh'), order.join());
    } finally {
      await new Promise<void>((r) => slow.close(() => r()));
    }
  });

  it('is idempotent by name: running is returned, stopped is started, concurrent creates make one container', async () => {
    const m = manager();
    const [a, b] = await Promise.all([m.create(spec()), m.create(spec())]);
    assert.equal(provider.created, 1);
    assert.equal(a.providerId, b.providerId);
    assert.equal((await m.stop('shop')).state, 'stopped');
    const again = await m.create(spec());
    assert.equal(again.state, 'running');
    assert.equal(again.ssh?.hostKey.fingerprint, a.ssh?.hostKey.fingerprint, 'the host key stays');
    assert.equal(provider.created, 1);
  });

  it('turning agent forwarding on or off in a made workspace rewrites its sshd config and reloads the running sshd', async () => {
    const m = manager();
    const first = await m.create(spec());
    const c = provider.containers.get(first.providerId!)!;
    const config = () => String(c.files.get('/etc/vendetta/sshd_config')?.content ?? '');
    const reloads = () => provider.execs.filter((a) => a[0] === 'sh' && /kill -HUP/.test(a[2] ?? '')).length;
    assert.match(config(), /^AllowAgentForwarding no$/m);
    await m.create(spec());
    assert.equal(reloads(), 0, 'an unchanged config is left alone');
    await m.create(spec('shop', { forwardAgent: true }));
    assert.match(config(), /^AllowAgentForwarding yes$/m);
    assert.equal(reloads(), 1);
    await m.create(spec('shop', { forwardAgent: true }));
    assert.equal(reloads(), 1);
    await m.stop('shop');
    await m.create(spec());
    assert.match(config(), /^AllowAgentForwarding no$/m);
    assert.equal(reloads(), 1, 'a stopped sshd reads the new config when it starts: no reload');
    provider.exec = async () => ({ exitCode: 5, stdout: '', stderr: 'no pid file' });
    await assert.rejects(m.create(spec('shop', { forwardAgent: true })), (err: AgentError) => {
      assert.equal(err.code, 'PROVIDER_ERROR');
      assert.match(err.message, /did not reload its new config \(exit 5\)/);
      assert.match(err.hint ?? '', /no pid file/);
      return true;
    });
  });

  it('reports a container removed behind its back as missing, and a create makes it again with the same key', async () => {
    const m = manager();
    const first = await m.create(spec());
    provider.containers.clear();
    const seen = await m.inspect('shop');
    assert.equal(seen.state, 'missing');
    assert.equal(seen.error?.code, 'WORKSPACE_MISSING');
    assert.deepEqual(
      (await m.list()).map((w) => w.state),
      ['missing'],
    );
    assert.equal(await code(m.start('shop')), 'WORKSPACE_MISSING');
    assert.equal(await code(m.stop('shop')), 'WORKSPACE_MISSING');
    const again = await m.create(spec());
    assert.equal(again.state, 'running');
    assert.equal(again.ssh?.hostKey.publicKey, first.ssh?.hostKey.publicKey);
  });

  it('adopts a labelled container without a record (a create killed early) instead of making a second', async () => {
    const orphan = provider.orphan('shop');
    provider.orphan('shop', { [AGENT_HOME_LABEL]: '/some/other/agent' });
    const info = await manager().create(spec());
    assert.equal(info.providerId, orphan);
    assert.equal(provider.created, 0);
  });

  it('leaves nothing behind when the image is missing, and reports a cut-short create as incomplete', async () => {
    const m = manager();
    provider.images.clear(); // the attempt fails after the record and folder were made…
    assert.equal(await code(m.create(spec())), 'IMAGE_NOT_FOUND');
    assert.equal(
      existsSync(join(home, 'workspaces/shop')),
      false,
      '…and a config that cannot work leaves nothing behind',
    );
    provider.images.add('img');
    provider.hasSshd = false;
    assert.equal(await code(m.create(spec())), 'SSHD_MISSING');
    assert.equal(existsSync(join(home, 'workspaces/shop')), false);
    assert.equal(provider.containers.size, 0);
    provider.hasSshd = true;
    const orphan = provider.orphan('shop');
    // A record in phase "creating" with its container, as a kill after `containers/create` leaves it.
    const m2 = manager();
    (m2 as unknown as { store: { put(r: unknown): void } }).store.put({
      spec: spec(),
      provider: 'docker',
      providerId: orphan,
      hostKey: { type: 'ssh-ed25519', publicKey: key.split(' ').slice(0, 2).join(' '), fingerprint: 'x' },
      hostKeyFile: join(home, 'k'),
      nodeFolder: join(home, 'workspaces/shop/src'),
      createdAt: 'now',
      phase: 'creating',
    });
    const seen = await m2.inspect('shop');
    assert.deepEqual([seen.state, seen.error?.code], ['error', 'CREATE_INCOMPLETE']);
  });

  it('completes an incomplete record on the next create and on start, from a fresh manager (daemon restart)', async () => {
    const m = manager(300);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const realPort = port;
    port = deadPort; // sshd never answers: the create fails after the container exists
    try {
      const err = await m.create(spec()).then(
        () => undefined,
        (e: unknown) => e as AgentError,
      );
      assert.equal(err?.code, 'PROVIDER_ERROR');
      assert.match(err!.message, /did not start/);
      assert.match(err!.hint!, /sshd: fatal: something/);
    } finally {
      port = realPort;
    }
    const fresh = manager();
    await fresh.reconcile();
    assert.equal((await fresh.inspect('shop')).error?.code, 'CREATE_INCOMPLETE');
    const info = await fresh.start('shop');
    assert.equal(info.state, 'running');
    assert.equal(provider.created, 1, 'the first container is reused');
  });

  it('after a node reboot, reconcile starts the workspaces left running and leaves stopped ones stopped', async () => {
    const m = manager();
    const left = await m.create(spec());
    const quiet = await m.create(spec('quiet'));
    await m.stop('quiet');
    // The reboot: every container stopped under the agent, which starts afresh.
    await provider.stop(left.providerId!);
    assert.equal((await m.inspect('shop')).state, 'stopped');
    // The agent came up before the engine: it asks again until the engine answers.
    provider.unreachable = true;
    setTimeout(() => (provider.unreachable = false), 300);
    const fresh = manager();
    await fresh.reconcile();
    assert.equal((await fresh.inspect('shop')).state, 'running');
    assert.equal((await fresh.inspect('quiet')).state, 'stopped');
    assert.equal(provider.containers.get(quiet.providerId!)?.ws.state, 'stopped');
  });

  it('reconcile finds the container of a record saved before its id was known', async () => {
    const m = manager();
    const info = await m.create(spec());
    const store = (m as unknown as { store: { get(n: string): Record<string, unknown>; put(r: unknown): void } }).store;
    const rec = store.get('shop');
    delete rec.providerId;
    store.put(rec);
    const fresh = manager();
    await fresh.reconcile();
    assert.equal((await fresh.inspect('shop')).providerId, info.providerId);
  });

  it('removes container, folder, keys and record; refuses a running one without force', async () => {
    const m = manager();
    const info = await m.create(spec());
    assert.equal(await code(m.remove('shop', false)), 'WORKSPACE_RUNNING');
    await m.stop('shop');
    assert.deepEqual(await m.remove('shop', false), { name: 'shop' });
    assert.equal(provider.containers.has(info.providerId!), false);
    assert.equal(existsSync(join(home, 'workspaces/shop')), false);
    assert.equal(await code(m.inspect('shop')), 'WORKSPACE_NOT_FOUND');
    assert.equal(await code(m.remove('shop', false)), 'WORKSPACE_NOT_FOUND');
    assert.deepEqual(await m.remove('shop', true), { name: 'shop' });
  });

  it('forgets a missing workspace only with force, and removes a stray labelled container with it', async () => {
    const m = manager();
    await m.create(spec());
    provider.containers.clear();
    assert.equal(await code(m.remove('shop', false)), 'WORKSPACE_MISSING');
    assert.deepEqual(await m.remove('shop', true), { name: 'shop' });
    assert.deepEqual(await m.list(), []);
    provider.orphan('stray');
    assert.deepEqual(await m.remove('stray', false), { name: 'stray' });
    assert.equal(provider.containers.size, 0);
  });

  it('creates a missing login user inside and gives it its own authorized_keys', async () => {
    const info = await manager().create(spec('dev', { user: 'dev' }));
    const c = provider.containers.get(info.providerId!)!;
    assert.ok(provider.execs.some((a) => a[0] === 'useradd' && a.at(-1) === 'dev' && a.includes('*')));
    const keys = c.files.get('/etc/vendetta/authorized_keys/dev');
    assert.deepEqual([keys?.uid, keys?.mode, keys?.content], [1001, 0o600, `${key}\n`]);
    assert.equal(c.files.has('/etc/vendetta/authorized_keys/root'), false);
  });

  it('runs a sync under the workspace lock: a remove waits for it, it waits for a create', async () => {
    const m = manager();
    await m.create(spec('dev', { user: 'dev' }));
    let release!: () => void;
    const target = await m.holdForSync('dev', new Promise<void>((r) => (release = r)));
    assert.deepEqual(target, { nodeFolder: join(home, 'workspaces/dev/src'), owner: { uid: 1001, gid: 1001 } });
    let removed = false;
    const removing = m.remove('dev', true).then(() => (removed = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(removed, false, 'the remove waits while the sync holds the lock');
    release();
    await removing;
    assert.equal(existsSync(join(home, 'workspaces/dev')), false);
    // A sync asked for while a create runs gets the lock after it, with the record it made.
    const creating = m.create(spec('late'));
    const held = await m.holdForSync('late', Promise.resolve());
    assert.equal((await creating).state, 'running');
    assert.equal(held.nodeFolder, join(home, 'workspaces/late/src'));
    assert.equal(held.owner, undefined, "root logs in: files stay the agent's");
    assert.equal(await code(m.holdForSync('nope', Promise.resolve())), 'WORKSPACE_NOT_FOUND');
  });

  it("asks a provider that keeps a copy of the project for the sync's answers, and passes on what a held sync wrote", async () => {
    const m = manager();
    const info = await m.create(spec('dev', { user: 'dev' }));
    assert.equal(await code(m.syncReceived('dev', ['a'])), 'INVALID_PARAMS', 'only while a sync holds the lock');
    const told: unknown[] = [];
    const copy = provider as FakeProvider & WorkspaceProvider;
    copy.syncReceived = async (id, paths, owner) => void told.push([id, paths, owner]);
    copy.syncScan = async (_id, entries) =>
      entries[0]?.path === 'copy' ? [{ i: 0, kind: 'file', id: 'f:1' }] : undefined;
    copy.syncRead = async (_id, path) => (path === 'copy' ? { kind: 'special' } : undefined);
    try {
      let release!: () => void;
      const target = await m.holdForSync('dev', new Promise<void>((r) => (release = r)));
      assert.equal(target.copied, true, 'the sync-receive is told to say what it wrote');
      await m.syncReceived('dev', ['a', 'b/c']);
      release();
      assert.deepEqual(told, [[info.providerId, ['a', 'b/c'], { uid: 1001, gid: 1001 }]]);
      await new Promise((r) => setTimeout(r, 10));
      assert.equal(await code(m.syncReceived('dev', ['a'])), 'INVALID_PARAMS', 'not once the lock is let go');
      assert.deepEqual(await m.syncScan('dev', [{ path: 'copy' }]), [{ i: 0, kind: 'file', id: 'f:1' }]);
      assert.deepEqual(await m.syncScan('dev', [{ path: 'README.md' }]), [], 'undefined: the node folder answers');
      assert.deepEqual(await m.syncRead('dev', 'copy'), { kind: 'special' });
      assert.deepEqual(await m.syncRead('dev', 'README.md'), {});
    } finally {
      delete copy.syncReceived;
      delete copy.syncScan;
      delete copy.syncRead;
    }
  });

  it('gives synced files the login ids of the first bring-up, whatever the workspace says later', async () => {
    const m = manager();
    const info = await m.create(spec('dev', { user: 'dev' }));
    provider.containers.get(info.providerId!)!.users.set('dev', 4242); // root inside remaps the user
    await m.stop('dev');
    await m.start('dev');
    assert.deepEqual((await m.holdForSync('dev', Promise.resolve())).owner, { uid: 1001, gid: 1001 });
  });

  it('lists every workspace, and says the engine is unreachable instead of failing', async () => {
    const m = manager();
    await m.create(spec('a'));
    await m.create(spec('b'));
    assert.deepEqual(
      (await m.list()).map((w) => [w.name, w.state]),
      [
        ['a', 'running'],
        ['b', 'running'],
      ],
    );
    provider.unreachable = true;
    const listed = await m.list();
    assert.deepEqual(
      listed.map((w) => [w.state, w.error?.code]),
      [
        ['error', 'PROVIDER_UNAVAILABLE'],
        ['error', 'PROVIDER_UNAVAILABLE'],
      ],
    );
    assert.equal(await code(m.create(spec('c'))), 'PROVIDER_UNAVAILABLE');
    assert.equal(await code(m.syncScan('nope', [])), 'WORKSPACE_NOT_FOUND');
    provider.unreachable = false;
    assert.deepEqual(await m.syncScan('a', [{ path: 'README.md' }]), []);
  });

  it('refuses a config that no longer matches the container, naming what differs; recreate makes it again with the same key and folder', async () => {
    const m = manager();
    const events: string[] = [];
    m.setServiceHooks({
      beforeStop: async () => undefined,
      beforeRemove: async () => undefined,
      beforeRecreate: async (n) => void events.push(`recreate ${n}`),
      portsChosen: () => undefined,
    });
    const first = await m.create(spec('shop', { env: { A: '1' } }));
    provider.images.add('img:2');
    const changed = spec('shop', { docker: { image: 'img:2', memoryBytes: 1024 }, env: { A: '2', B: 'x' } });
    await assert.rejects(m.create(changed), (err: AgentError) => {
      assert.equal(err.code, 'WORKSPACE_OUTDATED');
      assert.equal(
        err.message,
        'Workspace shop no longer matches its config: image img → img:2; memory (bytes) not set → 1024; env A "1" → "2"; env B not set → "x"',
      );
      assert.match(
        err.hint!,
        /workspace up --recreate.*keeps the workspace folder \/workspaces\/shop.*anything outside that folder .* is lost/,
      );
      return true;
    });
    const { docker: _docker, ...common } = spec('shop', { env: { A: '1' } });
    assert.equal(
      await code(m.create({ ...common, provider: 'lxc', lxc: { image: 'img' } })),
      'WORKSPACE_OUTDATED',
      'a provider change too',
    );
    assert.equal(provider.created, 1, 'the old container is kept until asked');
    const again = await m.create(changed, undefined, true);
    assert.deepEqual(events, ['recreate shop']);
    assert.equal(provider.created, 2);
    assert.notEqual(again.providerId, first.providerId);
    assert.equal(await provider.inspect(first.providerId!), undefined, 'the old container is gone');
    assert.deepEqual([again.image, again.ssh?.hostKey.publicKey], ['img:2', first.ssh?.hostKey.publicKey]);
    assert.equal((await m.create(changed)).providerId, again.providerId, 'now it matches: kept');
  });

  it('publishes service ports at node ports chosen at create and kept after, and stops services before the workspace', async () => {
    const m = new WorkspaceManager({
      home,
      stateDir: join(home, 'state'),
      logger: nullLogger,
      providers: () => provider,
      portProbe: { isFree: async (p) => p !== 7070, anyFree: async () => 41000 },
    });
    const events: string[] = [];
    m.setServiceHooks({
      beforeStop: async (n) => void events.push(`stop ${n} ${provider.containers.values().next().value?.ws.state}`),
      beforeRemove: async (n) => void events.push(`remove ${n}`),
      beforeRecreate: async (n) => void events.push(`recreate ${n}`),
      portsChosen: (n, _dir, _spec, choices) => void events.push(`ports ${n} ${JSON.stringify(choices)}`),
    });
    const asked: unknown[] = [];
    const create = provider.create.bind(provider);
    provider.create = (req) => (asked.push(req.ports), create(req));
    const services = [
      { name: 'db', command: 'x', port: 7070, env: {}, dependsOn: [], restart: 'no' as const },
      { name: 'api', command: 'y', port: 3000, env: {}, dependsOn: ['db'], restart: 'no' as const },
    ];
    await m.create(spec('svc', { services, hooks: { postStart: 'z' } }));
    assert.deepEqual(asked, [
      [
        { guestPort: 3000, nodePort: 3000 },
        { guestPort: 7070, nodePort: 41000 },
      ],
    ]);
    assert.deepEqual(events, [
      'ports svc [{"guestPort":7070,"nodePort":41000,"preferredTaken":7070},{"guestPort":3000,"nodePort":3000}]',
    ]);
    const t = await m.serviceTarget('svc');
    assert.deepEqual(
      [t.running, t.ports, t.dir, t.spec.hooks],
      [true, { '7070': 41000, '3000': 3000 }, join(home, 'workspaces/svc'), { postStart: 'z' }],
    );
    // Made: a new config changes services and hooks, not the container or its ports.
    await m.create(spec('svc', { services: [services[0]!] }));
    const t2 = await m.serviceTarget('svc');
    assert.deepEqual(
      [t2.spec.services?.length, t2.spec.hooks, t2.ports],
      [1, undefined, { '7070': 41000, '3000': 3000 }],
    );
    assert.equal(asked.length, 1);
    await m.stop('svc');
    assert.equal(events[1], 'stop svc running', 'services stop while the workspace still runs');
    assert.equal((await m.serviceTarget('svc')).running, false);
    assert.deepEqual(m.names(), ['svc']);
    await m.remove('svc', true);
    assert.equal(events[2], 'remove svc');
  });

  it("names the service whose node port the provider says is taken when a start is refused, whatever the runtime's words", async () => {
    const m = new WorkspaceManager({
      home,
      stateDir: join(home, 'state'),
      logger: nullLogger,
      providers: () => provider,
      portProbe: { isFree: async () => true, anyFree: async () => 41000 },
    });
    const services = [{ name: 'db', command: 'x', port: 7070, env: {}, dependsOn: [], restart: 'no' as const }];
    provider.start = async () => {
      throw new NodePortTakenError(7070, 'the runtime could not bind 7070');
    };
    await assert.rejects(m.create(spec('held', { services })), (err: unknown) => {
      assert.ok(err instanceof AgentError);
      assert.equal(err.code, 'PROVIDER_ERROR');
      assert.equal(
        err.message,
        "Workspace held cannot start: port 7070 on the node's 127.0.0.1 (where service db is published) is taken by another process",
      );
      assert.ok(err.cause instanceof NodePortTakenError);
      return true;
    });
  });

  it('chooses the SSH node port itself and keeps it across creates, stop/start and a restart; a taken one is moved only by a recreate', async () => {
    const taken = new Set<number>();
    const offers = [port, 45022];
    const probe = { isFree: async (p: number) => !taken.has(p), anyFree: async () => offers.shift() ?? 45099 };
    const make = () =>
      new WorkspaceManager({
        home,
        stateDir: join(home, 'state'),
        logger: nullLogger,
        providers: () => provider,
        portProbe: probe,
      });
    const asked: number[] = [];
    const create = provider.create.bind(provider);
    provider.create = (req) => (asked.push(req.sshNodePort), create(req));
    const saved = () =>
      (
        JSON.parse(readFileSync(workspaceStateFile(join(home, 'state')), 'utf8')) as {
          workspaces: Record<string, { sshPort?: number }>;
        }
      ).workspaces.keep?.sshPort;
    const m = make();
    assert.equal((await m.create(spec('keep'))).ssh?.port, port);
    assert.deepEqual([asked, saved()], [[port], port]);
    await m.stop('keep');
    assert.equal((await m.start('keep')).ssh?.port, port);
    const restarted = make();
    assert.equal((await restarted.create(spec('keep'))).ssh?.port, port);
    assert.deepEqual(asked, [port], 'a made workspace is not made again');
    await restarted.create(spec('keep'), undefined, true);
    assert.deepEqual(asked, [port, port], 'a recreate keeps a port that is still free');
    taken.add(port);
    await restarted.stop('keep');
    provider.start = async () => {
      throw new NodePortTakenError(port, `the runtime could not bind ${port}`);
    };
    await assert.rejects(restarted.start('keep'), (err: unknown) => {
      assert.ok(err instanceof AgentError);
      assert.equal(
        err.message,
        `Workspace keep cannot start: port ${port} on the node's 127.0.0.1 (where the workspace's SSH server is published) is taken by another process`,
      );
      assert.match(err.hint ?? '', /vendetta workspace up --recreate/);
      return true;
    });
    assert.equal(saved(), port, 'a refused start keeps the port: nothing moves behind the user');
    delete (provider as Partial<FakeProvider>).start;
    await restarted.create(spec('keep'), undefined, true);
    assert.deepEqual(asked, [port, port, 45022], 'the recreate moved the taken port');
  });
});
