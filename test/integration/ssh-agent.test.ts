// The agent's life on a real node, driven over SSH: install refused with --no-install, upgrade
// of a daemon of another build or protocol, purge, and the step-by-step diagnosis of `vendetta node test`.
import assert from 'node:assert/strict';
import {
  appendFileSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  createMessageConnection,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node';
import {
  AGENT_PROTOCOL_VERSION,
  DetectPorts,
  InspectNode,
  Ping,
  RunPostAttach,
  type AgentErrorData,
} from '../../agent/protocol';
import { VendettaError } from '../../coordinator/errors';
import { homePaths } from '../../coordinator/home';
import { diagnoseNode, purgeAgent } from '../../coordinator/ssh';
import { readLocalBundle } from '../../coordinator/ssh/localBundle';
import { setupSshSuite, waitFor, type SshSuite } from '../infra/sshSuite';
import { pidAlive } from '../infra/sys';

/** The agent's wire names that protocol 2 renamed, as protocol 1 spelled them. */
const PROTOCOL_1_NAMES = {
  'agent/didLog': 'agent/log',
  'node/inspect': 'node/info',
  'ports/detect': 'ports/detected',
  'ports/resolveNodePort': 'services/nodePort',
  'services/runPostAttach': 'services/attached',
  'services/readLogs': 'services/logs',
  'services/didLog': 'services/logLines',
  'progress/didReport': 'workspaces/progress',
  'workspaces/syncApply': 'workspaces/syncReceived',
};

/** A JSON-RPC connection straight to a daemon's socket, as a client of any protocol would open it. */
async function rawAgent(socket: string): Promise<{ conn: MessageConnection; close(): void }> {
  const sock = connect(socket);
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  const conn = createMessageConnection(new StreamMessageReader(sock), new StreamMessageWriter(sock));
  conn.listen();
  return {
    conn,
    close() {
      conn.dispose();
      sock.destroy();
    },
  };
}

describe('SSH nodes: agent install, upgrade, purge, diagnosis (real sshd)', function () {
  let s: SshSuite;

  before(async function () {
    this.timeout(60_000);
    s = await setupSshSuite(this, { count: 5, label: 'ssha' });
    for (let i = 0; i < 5; i++) await s.pin(i);
  });
  after(async () => s?.cleanup());
  afterEach(() => {
    for (let i = 0; i < 5; i++) s?.net.restoreLink(i);
  });

  it('does not upload the agent when told not to install (AGENT_INSTALL_FAILED)', async () => {
    const c = s.client(4, { install: false });
    await assert.rejects(
      c.connect(),
      (e: unknown) =>
        e instanceof VendettaError && e.code === 'AGENT_INSTALL_FAILED' && /not installed/.test(e.message),
    );
    assert.equal(
      existsSync(join(s.net.nodes[4]!.home, '.vendetta-agent', (await readLocalBundle(s.bundle)).dirName, 'agent.js')),
      false,
    );
  });

  it('refuses a node without Node.js 18 or newer (NODE_RUNTIME_MISSING), saying what it found and how to fix it', async function () {
    this.timeout(60_000);
    const n = s.net.nodes[4]!;
    try {
      s.net.stopSshd(4);
      await s.net.startSshd(4, { nodeJs: 'missing' });
      const missing = await s
        .client(4)
        .connect()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(missing instanceof VendettaError && missing.code === 'NODE_RUNTIME_MISSING', String(missing));
      assert.match(missing.message, /has no Node\.js/);
      assert.match(missing.hint ?? '', /Install Node\.js 18 or newer on/);

      s.net.stopSshd(4);
      await s.net.startSshd(4, { nodeJs: 'v16.20.2' });
      const old = await s
        .client(4)
        .connect()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(old instanceof VendettaError && old.code === 'NODE_RUNTIME_MISSING', String(old));
      assert.match(old.message, /v16\.20\.2 at \/usr\/bin\/node.*18 or newer/);
      const steps = await diagnoseNode(s.target(4), { paths: s.paths, log: s.log, agentBundle: s.bundle });
      assert.deepEqual(
        steps.map((x) => x.ok),
        [true, true, true, false],
      );
      assert.equal(steps[3]!.name, 'Node.js runtime');
      assert.match(steps[3]!.detail, /v16\.20\.2/);
      assert.ok(steps[3]!.hint);
    } finally {
      s.net.stopSshd(4);
      await s.net.startSshd(4);
    }
    assert.equal(existsSync(join(n.home, '.vendetta-agent')), false, 'nothing was installed');
  });

  it('upgrades a daemon of another build: shut down, replaced, old bundle removed', async function () {
    this.timeout(60_000);
    const n = s.net.nodes[0]!;
    const oldBundle = join(mkdtempSync(join(s.home, 'old-')), 'agent.js');
    copyFileSync(s.bundle, oldBundle);
    appendFileSync(oldBundle, '\n// an older build\n');
    const [oldB, newB] = await Promise.all([readLocalBundle(oldBundle), readLocalBundle(s.bundle)]);
    assert.notEqual(oldB.buildId, newB.buildId);

    const old = s.client(0, { agentBundle: oldBundle });
    const oldInfo = await old.connect();
    assert.equal(oldInfo.buildId, oldB.buildId);
    await old.close();
    assert.ok(pidAlive(oldInfo.pid), 'the daemon outlives its client');

    const c = s.client(0);
    const t0 = Date.now();
    const info = await c.connect();
    console.log(`      upgrade (upload + shutdown + restart + handshake): ${Date.now() - t0} ms`);
    assert.equal(info.buildId, newB.buildId);
    assert.equal(c.stats.upgrades, 1);
    assert.notEqual(info.pid, oldInfo.pid);
    assert.equal(pidAlive(oldInfo.pid), false, 'the old daemon is gone');
    assert.equal(existsSync(join(n.home, '.vendetta-agent', oldB.dirName)), false, 'the old bundle was removed');
    assert.ok(existsSync(join(n.home, '.vendetta-agent', newB.dirName, 'agent.js')));
    await c.request(Ping);
  });

  it('replaces a running daemon of an older protocol (old method names) on connect; the new names answer', async function () {
    this.timeout(60_000);
    const n = s.net.nodes[1]!;
    await purgeAgent(s.target(1), { paths: s.paths, log: s.log, agentBundle: s.bundle });
    // The bundle as the protocol before it was bumped: version 1 and the wire names of then.
    let text = readFileSync(s.bundle, 'utf8');
    assert.match(text, /AGENT_PROTOCOL_VERSION = 2;/);
    text = text.replace(/AGENT_PROTOCOL_VERSION = 2;/, 'AGENT_PROTOCOL_VERSION = 1;');
    for (const [now, then] of Object.entries(PROTOCOL_1_NAMES)) {
      assert.ok(text.includes(`"${now}"`), now);
      text = text.replaceAll(`"${now}"`, `"${then}"`);
    }
    const oldBundle = join(mkdtempSync(join(s.home, 'proto1-')), 'agent.js');
    writeFileSync(oldBundle, text);
    const oldB = await readLocalBundle(oldBundle);
    // Installed and running on the node as an older coordinator left it.
    const agentHome = join(n.home, '.vendetta-agent');
    const dir = join(agentHome, oldB.dirName);
    mkdirSync(dir, { recursive: true });
    copyFileSync(oldBundle, join(dir, 'agent.js'));
    const gid = statSync(n.home).gid;
    for (const p of [agentHome, dir, join(dir, 'agent.js')]) chownSync(p, n.uid, gid);
    const script = `setsid ${process.execPath} ${join(dir, 'agent.js')} daemon </dev/null >/dev/null 2>&1 &`;
    s.net.exec(1, ['sh', '-c', script], { asUser: true });
    const socket = join(agentHome, 'agent.sock');
    await waitFor(() => existsSync(socket), 15_000, 'the protocol-1 daemon to listen');

    const old = await rawAgent(socket);
    let oldPid: number;
    try {
      const init = await old.conn.sendRequest('initialize', {
        protocolVersion: 1,
        clientName: 'old',
        clientVersion: '0',
      });
      oldPid = (init as { pid: number }).pid;
      await old.conn.sendRequest('node/info');
      await assert.rejects(old.conn.sendRequest('node/inspect'), (e: ResponseError<unknown>) => e.code === -32601);
    } finally {
      old.close();
    }

    const c = s.client(1);
    const t0 = Date.now();
    const info = await c.connect();
    console.log(`      protocol upgrade (upload + refuse + shutdown + restart + handshake): ${Date.now() - t0} ms`);
    assert.equal(info.protocolVersion, AGENT_PROTOCOL_VERSION);
    assert.notEqual(info.pid, oldPid);
    assert.equal(pidAlive(oldPid), false, 'the protocol-1 daemon is gone');
    assert.ok(s.log.lines.some((l) => l.message === 'upgrading agent of another protocol version'));
    assert.equal(existsSync(dir), false, 'the protocol-1 bundle was removed');
    // The renamed methods reach their handlers (an unknown workspace, not an unknown method).
    assert.ok((await c.request(InspectNode)).providers);
    for (const asked of [
      c.request(DetectPorts, { workspace: 'nope' }),
      c.request(RunPostAttach, { workspace: 'nope' }),
    ]) {
      const err = await asked.then(
        () => assert.fail('an unknown workspace was found'),
        (e: VendettaError) => e,
      );
      assert.equal((err.cause as ResponseError<AgentErrorData>).data?.code, 'WORKSPACE_NOT_FOUND', err.message);
    }
    await c.close();
  });

  it('purge stops the daemon and deletes ~/.vendetta-agent', async function () {
    this.timeout(30_000);
    const n = s.net.nodes[1]!;
    const c = s.client(1);
    const info = await c.connect();
    await c.close();
    assert.ok(existsSync(join(n.home, '.vendetta-agent')));
    await purgeAgent(s.target(1), { paths: s.paths, log: s.log, agentBundle: s.bundle });
    assert.equal(existsSync(join(n.home, '.vendetta-agent')), false);
    assert.equal(pidAlive(info.pid), false);
    // Purging a node that has nothing is fine.
    await purgeAgent(s.target(1), { paths: s.paths, log: s.log, agentBundle: s.bundle });
  });

  it('diagnoses a healthy node step by step', async function () {
    this.timeout(30_000);
    const n = s.net.nodes[2]!;
    const steps = await diagnoseNode(s.target(2), { paths: s.paths, log: s.log, agentBundle: s.bundle });
    const names = steps.map((x) => x.name);
    assert.deepEqual(names.slice(0, 3), [
      `DNS + TCP ${n.host}:22`,
      `host key (pinned ${n.hostKeyFingerprint})`,
      `SSH auth as ${n.user}`,
    ]);
    assert.match(names[3]!, /^Node\.js runtime \(v\d+\.\d+\.\d+ at \/.+\)$/);
    assert.match(names[4]!, /^agent \(\d+\.\d+\.\d+[^,]*, pid \d+\)$/);
    assert.deepEqual(
      names.slice(5).map((x) => x.split(' ')[0]),
      ['docker', 'lxc', 'qemu'],
    );
    for (const step of steps.slice(0, 5)) assert.equal(step.ok, true, `${step.name}: ${step.detail}`);
    for (const step of steps) {
      assert.equal(typeof step.elapsedMs, 'number');
      assert.ok(step.detail.length > 0);
      if (!step.ok) assert.ok(step.hint, `${step.name} failed without a hint`);
    }
    console.log(steps.map((x) => `      ${x.ok ? '✔' : '✖'} ${x.name} — ${x.detail} (${x.elapsedMs} ms)`).join('\n'));
  });

  it('diagnoses a cut node: the first step fails with a hint, nothing after it', async function () {
    this.timeout(30_000);
    s.net.cutLink(3);
    const steps = await diagnoseNode(s.target(3), { paths: s.paths, log: s.log, agentBundle: s.bundle });
    assert.equal(steps.length, 1, JSON.stringify(steps));
    assert.equal(steps[0]!.name, `DNS + TCP ${s.net.nodes[3]!.host}:22`);
    assert.equal(steps[0]!.ok, false);
    assert.match(steps[0]!.detail, /Cannot reach/);
    assert.ok(steps[0]!.hint);
  });

  it('diagnoses an unpinned node: stops at the host key, naming the offered fingerprint', async () => {
    const paths = homePaths(mkdtempSync(join(s.home, 'nopin-')));
    const steps = await diagnoseNode(s.target(3), { paths, log: s.log, agentBundle: s.bundle });
    assert.deepEqual(
      steps.map((x) => x.ok),
      [true, false],
    );
    assert.equal(steps[1]!.name, 'host key (not pinned)');
    assert.ok(steps[1]!.detail.includes(s.net.nodes[3]!.hostKeyFingerprint));
  });

  it('refuses a changed host key with both fingerprints and how to re-pin on purpose', async function () {
    this.timeout(30_000);
    const before = s.net.nodes[3]!.hostKeyFingerprint;
    const after = await s.net.changeHostKey(3);
    const c = s.client(3);
    const err = await c.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof VendettaError);
    assert.equal(err.code, 'HOST_KEY_MISMATCH');
    assert.ok(err.message.includes(before) && err.message.includes(after), err.message);
    assert.ok(err.message.includes(s.net.nodes[3]!.name));
    assert.deepEqual(
      { expected: err.details?.expected, actual: err.details?.actual },
      { expected: before, actual: after },
    );
    assert.match(err.hint ?? '', /vendetta node add \S+ --host \S+ .*--replace-host-key/);
    const steps = await diagnoseNode(s.target(3), { paths: s.paths, log: s.log, agentBundle: s.bundle });
    assert.deepEqual(
      steps.map((x) => x.ok),
      [true, false],
    );
    assert.match(steps[1]!.detail, /changed/);
  });
});
