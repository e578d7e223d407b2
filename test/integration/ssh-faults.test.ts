// Faults on real SSH nodes: a cut link, a killed sshd, a killed agent daemon. The pool must notice
// within the keep-alive window, fail what is in flight with NODE_UNREACHABLE, keep the other
// nodes online, and come back by itself.
import assert from 'node:assert/strict';
import { Ping } from '../../agent/protocol';
import { VendettaError } from '../../coordinator/errors';
import type { LinkState } from '../../coordinator/nodes/agentClient';
import type { SshAgentClient } from '../../coordinator/ssh';
import { setupSshSuite, waitFor, type SshSuite } from '../infra/sshSuite';
import { pidAlive } from '../infra/sys';

function recordStates(c: SshAgentClient): Array<{ state: LinkState; at: number; code?: string }> {
  const seen: Array<{ state: LinkState; at: number; code?: string }> = [];
  c.onStateChange((state, err) => seen.push({ state, at: Date.now(), code: err?.code }));
  return seen;
}

describe('SSH nodes: link faults (real sshd)', function () {
  let s: SshSuite;
  let clients: SshAgentClient[];

  before(async function () {
    this.timeout(60_000);
    s = await setupSshSuite(this, { count: 5, label: 'sshf' });
    for (let i = 0; i < 5; i++) await s.pin(i);
    clients = s.net.nodes.map((_, i) => s.client(i));
    await Promise.all(clients.map((c) => c.connect()));
  });
  after(async () => s?.cleanup());
  afterEach(() => {
    for (let i = 0; i < 5; i++) s?.net.restoreLink(i);
  });

  it('a cut link: offline within the keep-alive window, the request in flight fails, the others stay online, and it comes back by itself', async function () {
    this.timeout(90_000);
    const c = clients[1]!;
    const states = recordStates(c);
    s.net.cutLink(1);
    const cutAt = Date.now();
    const inFlight = c.request(Ping).then(
      () => undefined,
      (err: unknown) => err,
    );

    const err = await inFlight;
    const failedAfter = Date.now() - cutAt;
    assert.ok(err instanceof VendettaError, String(err));
    assert.equal(err.code, 'NODE_UNREACHABLE');
    assert.equal(err.node, s.net.nodes[1]!.name);
    assert.match(err.message, /keep-alive/);
    await waitFor(() => c.state === 'offline', 2_000, 'offline state');
    const offline = states.find((x) => x.state === 'offline')!;
    console.log(
      `      link cut: in-flight request failed after ${(failedAfter / 1000).toFixed(1)} s, offline after ${((offline.at - cutAt) / 1000).toFixed(1)} s`,
    );
    assert.ok(offline.at - cutAt <= 16_500, `offline after ${offline.at - cutAt} ms`);
    assert.equal(offline.code, 'NODE_UNREACHABLE');

    // The other nodes never noticed.
    for (const [i, other] of clients.entries()) {
      if (i === 1) continue;
      assert.equal(other.state, 'online', `node ${i}`);
      await other.request(Ping);
    }

    s.net.restoreLink(1);
    const restoredAt = Date.now();
    await waitFor(() => c.state === 'online', 45_000, 'back online without any request');
    console.log(`      back online ${((Date.now() - restoredAt) / 1000).toFixed(1)} s after the link returned`);
    assert.equal(c.stats.sshConnects, 2);
    await c.request(Ping);
  });

  it('sshd killed and restarted: offline at once, online again by itself, same agent daemon', async function () {
    this.timeout(60_000);
    const c = clients[2]!;
    const daemonPid = c.agent!.pid;
    s.net.stopSshd(2);
    await waitFor(() => c.state === 'offline', 5_000, 'offline after sshd died');
    await assert.rejects(
      c.request(Ping),
      (e: unknown) =>
        e instanceof VendettaError && e.code === 'NODE_UNREACHABLE' && /connection refused/.test(e.message),
    );
    await s.net.startSshd(2);
    const t0 = Date.now();
    await waitFor(() => c.state === 'online', 40_000, 'back online after sshd restarted');
    console.log(`      sshd restarted: online again after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(c.agent!.pid, daemonPid, 'the agent daemon outlived the SSH sessions');
    await c.request(Ping);
  });

  it('agent daemon killed: the next request starts a new one', async function () {
    this.timeout(30_000);
    // No background retry within this test: only the request may bring the agent back.
    const c = s.client(3, { backoff: { initialMs: 600_000, maxMs: 600_000, factor: 2, jitter: 0 } });
    const first = await c.connect();
    process.kill(first.pid, 'SIGKILL');
    await waitFor(() => !pidAlive(first.pid), 5_000, 'daemon gone');
    await waitFor(() => c.state === 'offline', 5_000, 'offline after the daemon died');
    await c.request(Ping);
    assert.equal(c.state, 'online');
    assert.notEqual(c.agent!.pid, first.pid);
    assert.ok(pidAlive(c.agent!.pid));
    assert.equal(c.stats.sshConnects, 1, 'the SSH connection itself survived');
    assert.equal(c.stats.attaches, 2);
  });

  it('a closed client fails its requests and stays closed', async () => {
    const c = s.client(4);
    await c.connect();
    const pending = c.request(Ping);
    await c.close();
    await pending.catch(() => undefined); // may have been answered before the close
    await assert.rejects(c.request(Ping), (e: unknown) => e instanceof VendettaError && e.code === 'NODE_UNREACHABLE');
  });
});
