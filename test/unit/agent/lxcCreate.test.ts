import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceSpec } from '../../../agent/protocol';
import { AgentError } from '../../../agent/errors';
import type { ProviderCreateRequest } from '../../../agent/providers/contract';
import { LxdClient } from '../../../agent/providers/lxc/client';
import { LxcProvider } from '../../../agent/providers/lxc/provider';
import type { HttpCall, HttpReply, SendOptions } from '../../../agent/providers/unixHttp';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(__dirname, '../../fixtures/agent', name), 'utf8'));

/**
 * LXD as the provider's create sees it, from recorded replies: the instance made, each file call
 * held until the test lets it go (so which calls are in flight together can be seen), the
 * instance `vendetta-rec` as LXD 5.0.2 described it.
 */
class ScriptedLxd extends LxdClient {
  readonly log: string[] = [];
  /** Calls in flight now (a file lookup or push), and the most ever in flight together. */
  inFlight = new Set<string>();
  readonly together: string[][] = [];
  deleted = false;
  /** An LXD before the instance_file_head extension: file lookups are GETs. */
  withoutFileHead = false;

  constructor(
    private readonly present: ReadonlySet<string>,
    private readonly release: Promise<void>,
  ) {
    super('/nonexistent/lxd.socket');
  }

  override async send(call: HttpCall, _opts: SendOptions = {}): Promise<HttpReply> {
    const path = String(call.query?.path ?? '');
    const what = `${call.method} ${call.path.replace('/1.0/instances/vendetta-rec/files', 'files')} ${path}`;
    this.log.push(what);
    if (call.path.endsWith('/files')) {
      this.inFlight.add(what);
      this.together.push([...this.inFlight]);
      await this.release;
      this.inFlight.delete(what);
      if (call.method === 'GET' || call.method === 'HEAD') {
        const there = this.present.has(path);
        return { status: there ? 200 : 404, headers: there ? { 'x-lxd-type': 'file' } : {}, body: Buffer.alloc(0) };
      }
      // A push into a folder the image lacks fails, as LXD's does.
      if (!this.present.has('/lib/systemd/systemd') && path.startsWith('/etc/systemd'))
        return { status: 500, headers: {}, body: Buffer.from('{"error":"no such file or directory"}') };
      return { status: 200, headers: {}, body: Buffer.from('{}') };
    }
    throw new Error(`unexpected call ${what}`);
  }

  override async json(call: HttpCall, opts: SendOptions = {}): Promise<{ status: number; value: unknown }> {
    this.log.push(`${call.method} ${call.path}`);
    // As the real client: a call made with an aborted signal is cancelled, not sent.
    if (opts.signal?.aborted)
      throw new AgentError('PROVIDER_ERROR', `LXD was asked to ${call.what}, and that was cancelled`);
    if (call.path === '/1.0') {
      const server = fixture('lxd-1.0-5.0.2.json') as { metadata: { api_extensions: string[] } };
      if (this.withoutFileHead)
        server.metadata.api_extensions = server.metadata.api_extensions.filter((e) => e !== 'instance_file_head');
      return { status: 200, value: server };
    }
    if (call.path.startsWith('/1.0/images/aliases/')) return { status: 200, value: fixture('lxd-alias.json') };
    if (call.path === '/1.0/instances/vendetta-rec')
      return this.deleted
        ? { status: 404, value: undefined }
        : { status: 200, value: fixture('lxd-instance-running.json') };
    return super.json(call, opts);
  }

  override async operation(call: HttpCall): Promise<Record<string, unknown> | undefined> {
    this.log.push(`${call.method} ${call.path}`);
    if (call.method === 'DELETE') this.deleted = true;
    return {};
  }
}

const spec: WorkspaceSpec = {
  name: 'rec',
  provider: 'lxc',
  lxc: { image: 'vendetta-test/debian-bookworm' },
  env: {},
  user: 'root',
  workspaceFolder: '/workspaces/rec',
  authorizedKeys: ['ssh-ed25519 AAAA'],
} as WorkspaceSpec;

const request = (): ProviderCreateRequest => ({
  spec,
  nodeFolder: '/tmp',
  labels: {},
  ssh: {
    binary: '/usr/sbin/sshd',
    configPath: '/etc/vendetta/sshd_config',
    bring: () => Promise.reject(new Error('not brought')),
  },
  seedFiles: [{ path: '/etc/vendetta/sshd_config', type: 'file', mode: 0o600, content: 'Port 22\n' }],
  sshNodePort: 41022,
  progress: () => undefined,
});

describe("an LXD workspace's create", () => {
  const agentIds = { uid: 0, gid: 0 };

  it("looks for the image's sshd and systemd (their types, not their bytes) while it pushes the SSH server's files, not before", async () => {
    let go!: () => void;
    const lxd = new ScriptedLxd(new Set(['/usr/sbin/sshd', '/lib/systemd/systemd']), new Promise((r) => (go = r)));
    const made = new LxcProvider(lxd, agentIds).create(request());
    // Every call that can be in flight at the start is: both lookups and the first wave of pushes.
    while (!lxd.inFlight.has('POST files /etc/vendetta/sshd_config')) await new Promise((r) => setImmediate(r));
    const first = lxd.together.at(-1)!;
    assert.ok(
      first.includes('HEAD files /usr/sbin/sshd') && first.includes('HEAD files /lib/systemd/systemd'),
      String(first),
    );
    assert.ok(first.includes('POST files /etc/systemd/system/vendetta-sshd.service'), String(first));
    go();
    const ws = await made;
    assert.equal(ws.providerId, 'vendetta-rec');
    assert.ok(lxd.log.includes('POST files /etc/systemd/system/multi-user.target.wants/vendetta-sshd.service'));
    assert.equal(lxd.deleted, false);
  });

  it('reads the files it looks for on an LXD that does not answer HEAD on them', async () => {
    const lxd = new ScriptedLxd(new Set(['/usr/sbin/sshd', '/lib/systemd/systemd']), Promise.resolve());
    lxd.withoutFileHead = true;
    await new LxcProvider(lxd, agentIds).create(request());
    assert.ok(lxd.log.includes('GET files /usr/sbin/sshd') && lxd.log.includes('GET files /lib/systemd/systemd'));
    assert.ok(!lxd.log.some((l) => l.startsWith('HEAD')), lxd.log.join());
  });

  it('an image without systemd is still SSHD_MISSING (not the failed pushes), and its instance is removed after them', async () => {
    const lxd = new ScriptedLxd(new Set(['/usr/sbin/sshd']), Promise.resolve());
    await assert.rejects(new LxcProvider(lxd, agentIds).create(request()), (err: unknown) => {
      assert.ok(err instanceof AgentError);
      assert.equal(err.code, 'SSHD_MISSING');
      assert.match(err.message, /no systemd .*\/lib\/systemd\/systemd is missing/);
      return true;
    });
    assert.equal(lxd.deleted, true);
    // Removed only once no push was in flight any more.
    const removedAt = lxd.log.indexOf('DELETE /1.0/instances/vendetta-rec');
    const lastPush = lxd.log.map((l, i) => (l.startsWith('POST files') ? i : -1)).reduce((a, b) => Math.max(a, b));
    assert.ok(removedAt > lastPush, lxd.log.join('\n'));
  });
});

describe('LXD workspace calls honour their abort signal', () => {
  const aborted = (): { signal: AbortSignal } => {
    const c = new AbortController();
    c.abort();
    return { signal: c.signal };
  };
  const cancelled = (err: unknown): boolean => err instanceof AgentError && /cancelled/.test(err.message);

  it('nodeIds asks LXD for the idmap with the signal, so an aborted call stops', async () => {
    const lxd = new ScriptedLxd(new Set(), Promise.resolve());
    const provider = new LxcProvider(lxd, { uid: 1000, gid: 1000 }); // raw.idmap: the idmap is read
    await assert.rejects(provider.nodeIds('vendetta-rec', { uid: 1000, gid: 1000 }, aborted()), cancelled);
  });

  it('logs looks the instance up with the signal, so an aborted call stops before any exec', async () => {
    const lxd = new ScriptedLxd(new Set(), Promise.resolve());
    await assert.rejects(new LxcProvider(lxd, { uid: 0, gid: 0 }).logs('vendetta-rec', 50, aborted()), cancelled);
    assert.ok(!lxd.log.some((l) => l.includes('/exec')), lxd.log.join('\n'));
  });
});
