// Connecting to real OpenSSH servers, each in its own network namespace with its own Unix user:
// pinned host keys, key auth, the agent installed and attached, and every way that can be refused.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ping } from '../../agent/protocol';
import { VendettaError } from '../../coordinator/errors';
import { homePaths } from '../../coordinator/home';
import { createSshAgentClient, fingerprintOf, KnownHosts, probeHostKey } from '../../coordinator/ssh';
import { readLocalBundle } from '../../coordinator/ssh/localBundle';
import { median, setupSshSuite, type SshSuite } from '../infra/sshSuite';

async function codeOf(p: Promise<unknown>): Promise<VendettaError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof VendettaError, `expected a VendettaError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

describe('SSH nodes: connect, pin, install, attach (real sshd)', function () {
  let s: SshSuite;

  before(async function () {
    this.timeout(60_000);
    s = await setupSshSuite(this, { count: 5, label: 'sshc' });
    for (let i = 0; i < 5; i++) await s.pin(i);
  });
  after(async () => s?.cleanup());

  it('pins host keys in a known_hosts file that OpenSSH itself accepts', async () => {
    const n = s.net.nodes[0]!;
    const probed = await probeHostKey(n.host, n.port);
    assert.equal(probed.fingerprint, n.hostKeyFingerprint, 'same fingerprint as ssh-keygen -lf of the host key');
    assert.equal(probed.keyType, 'ssh-ed25519');
    const pub = readFileSync(`${n.hostKeyPath}.pub`, 'utf8').split(' ')[1]!;
    assert.equal(fingerprintOf(Buffer.from(pub, 'base64')), n.hostKeyFingerprint);

    const found = spawnSync('ssh-keygen', ['-F', n.host, '-f', s.paths.knownHosts], { encoding: 'utf8' });
    assert.equal(found.status, 0, found.stderr);
    assert.match(found.stdout, new RegExp(`${n.host.replace(/\./g, '\\.')} ssh-ed25519 `));

    const ssh = spawnSync(
      'ssh',
      [
        '-F',
        '/dev/null',
        '-i',
        n.identity,
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        `UserKnownHostsFile=${s.paths.knownHosts}`,
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        `${n.user}@${n.host}`,
        'echo',
        'pinned-ok',
      ],
      { encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(ssh.status, 0, ssh.stderr);
    assert.equal(ssh.stdout.trim(), 'pinned-ok');

    // …and a non-22 port is written `[host]:port`, which OpenSSH also matches.
    const other = join(s.home, 'kh-port');
    await new KnownHosts(other).pin(n.host, 2222, probed.keyType, probed.key);
    assert.equal(spawnSync('ssh-keygen', ['-F', `[${n.host}]:2222`, '-f', other]).status, 0);
  });

  it('connects, installs the agent and completes the handshake on 5 nodes at once', async function () {
    this.timeout(60_000);
    const local = await readLocalBundle(s.bundle);
    const clients = s.net.nodes.map((_, i) => s.client(i));
    const times: number[] = [];
    const infos = await Promise.all(
      clients.map(async (c) => {
        const t0 = Date.now();
        const info = await c.connect();
        times.push(Date.now() - t0);
        return info;
      }),
    );
    console.log(
      `      cold connect + install + handshake, 5 nodes in parallel: median ${median(times)} ms, max ${Math.max(...times)} ms`,
    );
    const pids = new Set<number>();
    for (const [i, info] of infos.entries()) {
      const n = s.net.nodes[i]!;
      assert.equal(info.buildId, local.buildId);
      assert.equal(clients[i]!.state, 'online');
      assert.equal(clients[i]!.stats.installs, 1);
      const installed = join(n.home, '.vendetta-agent', local.dirName, 'agent.js');
      assert.ok(existsSync(installed), installed);
      assert.equal(createHash('sha256').update(readFileSync(installed)).digest('hex'), local.sha256);
      pids.add(info.pid);
    }
    assert.equal(pids.size, 5, 'each node runs its own agent daemon');

    // A second client finds the bundle in place and the daemon running: no upload, same daemon.
    const again = s.client(0);
    const t0 = Date.now();
    const info = await again.connect();
    console.log(`      connect to a node with the agent installed and running: ${Date.now() - t0} ms`);
    assert.equal(info.pid, infos[0]!.pid);
    assert.equal(again.stats.installs, 0);
  });

  it('serves 100 concurrent requests over one pooled connection', async () => {
    // Count from the node's side: established connections to its sshd before and after.
    const established = () =>
      s.net.exec(1, ['ss', '-Htn', 'state', 'established', '( sport = :22 )']).stdout.trim().split('\n').filter(Boolean)
        .length;
    const before = established();
    const c = s.client(1);
    await c.connect();
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 100 }, () => c.request(Ping)));
    const elapsed = Date.now() - t0;
    assert.equal(results.length, 100);
    for (const r of results) assert.equal(typeof r.now, 'number');
    assert.equal(c.stats.sshConnects, 1);
    assert.equal(c.stats.attaches, 1);
    assert.equal(established(), before + 1, 'one more TCP connection on the node, not 100');

    const rtts: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = process.hrtime.bigint();
      await c.request(Ping);
      rtts.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    console.log(
      `      100 concurrent pings: ${elapsed} ms; warm round trip p50 ${median(rtts).toFixed(2)} ms over 200`,
    );
  });

  it('opens a TCP tunnel from the node over the pooled connection (what ssh-proxy uses)', async () => {
    const c = s.client(1);
    const n = s.net.nodes[1]!;
    const ch = await c.forwardOut(n.host, 22);
    const banner = await new Promise<string>((resolve, reject) => {
      ch.once('data', (b: Buffer) => resolve(b.toString('latin1')));
      ch.once('error', reject);
    });
    ch.close();
    assert.match(banner, /^SSH-2\.0-OpenSSH/);
    assert.equal(c.stats.sshConnects, 1);
    await assert.rejects(
      c.forwardOut('127.0.0.1', 1),
      (e: unknown) => e instanceof VendettaError && e.code === 'NODE_UNREACHABLE',
    );
  });

  it('refuses a node whose host key is not pinned (HOST_KEY_UNCONFIRMED, naming the offered key)', async () => {
    const n = s.net.nodes[2]!;
    const paths = homePaths(mkdtempSync(join(s.home, 'unpinned-')));
    const c = createSshAgentClient(s.target(2), { paths, log: s.log, agentBundle: s.bundle });
    try {
      const err = await codeOf(c.connect());
      assert.equal(err.code, 'HOST_KEY_UNCONFIRMED');
      assert.equal(err.details?.actual, n.hostKeyFingerprint);
      assert.match(err.message, new RegExp(n.hostKeyFingerprint.replace(/[+/]/g, '\\$&')));
      assert.match(err.hint ?? '', /--host-key-fingerprint SHA256:/);
      assert.equal(c.state, 'offline');
    } finally {
      await c.close();
    }
  });

  it('refuses a wrong key with AUTH_FAILED and says how to install the right one', async () => {
    const keyDir = mkdtempSync(join(s.home, 'otherkey-'));
    const key = join(keyDir, 'id_other');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const c = createSshAgentClient(
      { ...s.target(2), identity: key },
      { paths: s.paths, log: s.log, agentBundle: s.bundle },
    );
    try {
      const err = await codeOf(c.connect());
      assert.equal(err.code, 'AUTH_FAILED');
      assert.equal(err.node, s.net.nodes[2]!.name);
      assert.equal(
        err.hint?.includes(`ssh-copy-id -i ${key}.pub ${s.net.nodes[2]!.user}@${s.net.nodes[2]!.host}`),
        true,
        err.hint,
      );
    } finally {
      await c.close();
    }
  });

  it('refuses hostile hosts and names before any connection (INVALID_HOST / INVALID_NAME)', async () => {
    const pwned = `/tmp/pwned-${process.pid}`;
    for (const host of [
      `-oProxyCommand=touch ${pwned}`,
      'host;reboot',
      '$(touch /tmp/x)',
      'a b',
      '',
      `${s.net.nodes[0]!.host};id`,
    ]) {
      const c = createSshAgentClient({ ...s.target(0), host }, { paths: s.paths, log: s.log, agentBundle: s.bundle });
      assert.equal((await codeOf(c.connect())).code, 'INVALID_HOST', host);
      await c.close();
      assert.equal((await codeOf(probeHostKey(host, 22))).code, 'INVALID_HOST', host);
    }
    for (const name of ['../x', 'a;b', '-oProxyCommand=x', '', 'x'.repeat(300)]) {
      const c = createSshAgentClient({ ...s.target(0), name }, { paths: s.paths, log: s.log, agentBundle: s.bundle });
      assert.equal((await codeOf(c.connect())).code, 'INVALID_NAME', name);
      await c.close();
    }
    assert.equal(existsSync(pwned), false);
  });

  it('says which step failed when a node cannot be reached (NODE_UNREACHABLE)', async () => {
    const refused = await codeOf(probeHostKey(s.net.nodes[0]!.host, 2222));
    assert.equal(refused.code, 'NODE_UNREACHABLE');
    assert.match(refused.message, /connection refused/);
    const c = createSshAgentClient(
      { ...s.target(0), host: 'no-such-node.invalid' },
      { paths: s.paths, log: s.log, agentBundle: s.bundle },
    );
    const dns = await codeOf(c.connect());
    await c.close();
    assert.equal(dns.code, 'NODE_UNREACHABLE');
    assert.match(dns.message, /DNS|resolve/);
  });
});
