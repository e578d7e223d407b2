// The short way to a node's agent: once a daemon of our build runs, sessions use a streamlocal
// channel straight to its socket (no `attach` process on the node); a stale endpoint, another
// build or a node that forbids streamlocal forwarding all fall back to attach.
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { Ping, SYNC_HEADER_ENTRY } from '../../agent/protocol';
import type { AgentCommand } from '../../coordinator/nodes/agentClient';
import { openReceiver, streamCommand } from '../../coordinator/sync/receiver';
import { parseReceiverError } from '../../coordinator/sync/sender';
import { tarBuffer } from '../../common/tar/encode';
import { AgentEndpoints, endpointKey, endpointsFile } from '../../coordinator/nodes/agentEndpoints';
import { readLocalBundle } from '../../coordinator/ssh/localBundle';
import { setupSshSuite, waitFor, type SshSuite } from '../infra/sshSuite';
import { pidAlive } from '../infra/sys';

/** `node agent.js attach` processes of node i's user, seen from the node. */
function attachProcesses(s: SshSuite, i: number): number {
  const r = s.net.exec(i, ['pgrep', '-u', s.net.nodes[i]!.user, '-f', 'agent.js attach'], { allowFail: true });
  return r.stdout.trim().split('\n').filter(Boolean).length;
}

/** The code of the receiver's answer to a sync stream (of no files) for a workspace the node does not have. */
async function syncRefusal(cmd: AgentCommand): Promise<string | undefined> {
  let out = '';
  cmd.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  cmd.stdin.end(tarBuffer([{ path: SYNC_HEADER_ENTRY, type: 'file', mode: 0o600, data: '{"delete":[]}' }]));
  await cmd.exit;
  return parseReceiverError(out)?.code;
}

describe('SSH nodes: straight to the agent socket (real sshd)', function () {
  let s: SshSuite;
  let endpoints: AgentEndpoints;

  before(async function () {
    this.timeout(60_000);
    s = await setupSshSuite(this, { count: 3, label: 'sshd-direct' });
    for (let i = 0; i < 3; i++) await s.pin(i);
    endpoints = new AgentEndpoints(endpointsFile(s.paths));
  });
  after(async () => s?.cleanup());

  it('reaches the daemon a fresh install started on its socket, with no attach process, remembers it, and connects there directly next time', async function () {
    this.timeout(60_000);
    const first = s.client(0);
    const daemon = await first.connect();
    assert.equal(first.stats.installs, 1);
    assert.equal(first.stats.directs, 1, 'the daemon the install started is reached on its socket');
    assert.equal(first.stats.attachProcesses, 0, 'with no attach process in between');
    assert.equal(attachProcesses(s, 0), 0);
    const remembered = endpoints.get(endpointKey(s.target(0)));
    assert.ok(remembered, 'the endpoint is remembered');
    assert.equal(remembered.buildId, (await readLocalBundle(s.bundle)).buildId);
    assert.match(remembered.socket, /\/\.vendetta-agent\/agent\.sock$/);
    await first.close();

    const again = s.client(0);
    const info = await again.connect();
    assert.equal(again.stats.directs, 1);
    assert.equal(attachProcesses(s, 0), 0, 'no attach process ran');
    assert.equal(info.pid, daemon.pid, 'the same daemon');
    assert.equal(typeof (await again.request(Ping)).now, 'number');

    // Agent commands run with the daemon's own Node.js and bundle.
    const cmd = await again.runAgentCommand(['version']);
    let out = '';
    cmd.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    assert.equal(await cmd.exit, 0);
    assert.equal((JSON.parse(out) as { buildId: string }).buildId, remembered.buildId);

    // Sync streams reach the daemon's sync socket on a streamlocal channel too: the daemon answers.
    assert.match(info.syncSocket ?? '', /\/\.vendetta-agent\/sync\.sock$/);
    assert.equal(
      await syncRefusal(streamCommand(await again.openNodeSocket(info.syncSocket!), 'nosuch')),
      'WORKSPACE_NOT_FOUND',
    );
  });

  it('a remembered socket with no daemon behind it: attaches (which starts one) and remembers it again', async function () {
    this.timeout(60_000);
    const c = s.client(1);
    const first = await c.connect();
    await c.close();
    process.kill(first.pid, 'SIGKILL');
    await waitFor(() => !pidAlive(first.pid), 5_000, 'daemon gone');

    const next = s.client(1);
    const info = await next.connect();
    assert.notEqual(info.pid, first.pid, 'a new daemon runs');
    assert.equal(next.stats.attaches, 1);
    assert.equal(next.stats.directs, 1, 'attached, then switched to the new daemon socket');
    assert.ok(
      s.log.lines.some(
        (l) => l.message === 'no streamlocal channel to the agent' && l.fields?.node === s.target(1).name,
      ),
    );
    assert.ok(endpoints.get(endpointKey(s.target(1))));
  });

  it('a daemon killed under a direct session: the link notices and the next request starts a new daemon', async function () {
    this.timeout(30_000);
    const c = s.client(1, { backoff: { initialMs: 600_000, maxMs: 600_000, factor: 2, jitter: 0 } });
    const first = await c.connect();
    assert.equal(c.stats.directs, 1);
    process.kill(first.pid, 'SIGKILL');
    await waitFor(() => c.state === 'offline', 5_000, 'offline after the daemon died');
    await c.request(Ping);
    assert.notEqual(c.agent!.pid, first.pid);
    assert.equal(c.stats.sshConnects, 1, 'the SSH connection itself survived');
  });

  it('an endpoint of another build is not used: attach runs', async function () {
    this.timeout(30_000);
    const key = endpointKey(s.target(0));
    const known = endpoints.get(key)!;
    endpoints.set(key, { ...known, buildId: 'someotherbuild' });
    const c = s.client(0);
    await c.connect();
    assert.equal(c.stats.attaches, 1);
    assert.equal(c.stats.directs, 1, 'attached, then switched');
    assert.equal(endpoints.get(key)?.buildId, known.buildId, 'the endpoint is ours again');
  });

  it('directToSocket: false always attaches', async function () {
    this.timeout(30_000);
    const c = s.client(0, { directToSocket: false });
    await c.connect();
    assert.equal(c.stats.directs, 0);
    assert.equal(attachProcesses(s, 0), 1, 'the session runs through attach');
    assert.equal(typeof (await c.request(Ping)).now, 'number');
    await c.close();
  });

  it('a node that forbids streamlocal forwarding: attach, and no further channel is asked for on that connection', async function () {
    this.timeout(60_000);
    const n = s.net.nodes[2]!;
    appendFileSync(n.sshdConfig, 'AllowStreamLocalForwarding no\n');
    s.net.stopSshd(2);
    await s.net.startSshd(2);
    const c = s.client(2);
    await c.connect();
    assert.equal(c.stats.directs, 0);
    assert.equal(endpoints.get(endpointKey(s.target(2))), undefined, 'nothing remembered');
    assert.equal(typeof (await c.request(Ping)).now, 'number');
    const refusals = () =>
      s.log.lines.filter((l) => l.message === 'no streamlocal channel to the agent' && l.fields?.node === n.name)
        .length;
    assert.equal(refusals(), 1);
    // Nor to the sync socket: a sync runs sync-receive instead, which answers alike.
    await assert.rejects(c.openNodeSocket(c.agent!.syncSocket!), /allows no channel to a Unix socket/);
    assert.equal(await syncRefusal(await openReceiver(c, 'nosuch')), 'WORKSPACE_NOT_FOUND');
    // The attach session ends (the daemon's connection closes); the reconnect attaches straight away.
    s.net.exec(2, ['pkill', '-u', n.user, '-f', 'agent.js attach'], { allowFail: true });
    await waitFor(() => c.state === 'offline', 5_000, 'offline after the attach process died');
    await c.request(Ping);
    assert.equal(c.stats.attaches, 2);
    assert.equal(c.stats.directs, 0);
    assert.equal(refusals(), 1, 'not asked again on the same connection');
  });
});
