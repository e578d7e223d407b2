// Installing the agent on nodes as they come: an sshd without the SFTP subsystem (hardened
// servers) gets it through an exec channel, checksum verified; a damaged transfer is caught and
// deleted; and each failure's hint names what the node actually said.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VendettaError } from '../../coordinator/errors';
import { openSsh } from '../../coordinator/ssh/connect';
import { readLocalBundle } from '../../coordinator/ssh/localBundle';
import { uploadBundle } from '../../coordinator/ssh/upload';
import { setupSshSuite, type SshSuite } from '../infra/sshSuite';
import { createCliHome, type CliHome } from './coordinatorHarness';

describe('SSH nodes without SFTP: the agent goes through an exec channel, checksum verified (real sshd)', function () {
  let s: SshSuite;
  let h: CliHome | undefined;

  before(async function () {
    this.timeout(60_000);
    s = await setupSshSuite(this, { count: 3, label: 'nosftp' });
    for (let i = 0; i < 3; i++) {
      s.net.stopSshd(i);
      await s.net.startSshd(i, { sftp: false });
      await s.pin(i);
    }
  });
  after(async function () {
    this.timeout(60_000);
    await h?.cleanup();
    await s?.cleanup();
  });

  const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
  const agentDir = async (i: number) =>
    join(s.net.nodes[i]!.home, '.vendetta-agent', (await readLocalBundle(s.bundle)).dirName);

  it('`node add` installs and starts the agent on a fresh user of an sshd that refuses SFTP', async function () {
    this.timeout(120_000);
    const n = s.net.nodes[0]!;
    assert.equal(existsSync(join(n.home, '.vendetta-agent')), false, 'a fresh user: nothing installed yet');
    // The real OpenSSH client is refused the subsystem: this node really has no SFTP.
    const sftp = spawnSync(
      'sftp',
      [
        '-b',
        '-',
        '-i',
        n.identity,
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        `UserKnownHostsFile=${join(s.home, 'sftp_known_hosts')}`,
        '-o',
        'BatchMode=yes',
        `${n.user}@${n.host}`,
      ],
      { input: 'pwd\n', encoding: 'utf8', timeout: 20_000 },
    );
    assert.notEqual(sftp.status, 0, 'sftp must fail on this node');
    assert.match(sftp.stderr, /subsystem request failed|Connection closed/i);

    h = createCliHome();
    const r = await h.run([
      'node',
      'add',
      n.name,
      '--host',
      n.host,
      '--user',
      n.user,
      '--identity',
      n.identity,
      '--accept-new-host-key',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^added ${n.name} .*, agent \\S+ online$`, 'm'));
    const shipped = await readLocalBundle(join(h.dir, 'bin', 'agent.js'));
    const dir = join(n.home, '.vendetta-agent', shipped.dirName);
    assert.equal(sha256(join(dir, 'agent.js')), shipped.sha256, 'the installed bundle is the exact bytes');
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.tmp')),
      [],
      'no temp file left',
    );
    const status = await h.json<Array<{ status: string }>>(['node', 'status', n.name]);
    assert.equal(status[0]?.status, 'online');
  });

  it('a transfer that arrives damaged is caught by the checksum on the node and deleted', async function () {
    this.timeout(60_000);
    const n = s.net.nodes[1]!;
    const bundle = await readLocalBundle(s.bundle);
    // What travels differs from what was meant by one byte: the checksum made on the node must see it.
    const damaged = join(s.home, 'damaged-agent.js');
    copyFileSync(s.bundle, damaged);
    const bytes = readFileSync(damaged);
    const at = bytes.length >> 1;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0x20, at);
    writeFileSync(damaged, bytes);
    const dir = await agentDir(1);
    s.net.exec(1, ['mkdir', '-p', dir], { asUser: true });
    const { client } = await openSsh(s.target(1), { paths: s.paths, log: s.log });
    try {
      const err = await uploadBundle(client, n.name, n.home, { ...bundle, path: damaged }, process.execPath).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof VendettaError, String(err));
      assert.equal(err.code, 'AGENT_INSTALL_FAILED');
      assert.match(
        err.message,
        new RegExp(`arrived damaged on ${n.name} \\(sha256 ${sha256(damaged)}, expected ${bundle.sha256}\\)`),
      );
      assert.match(err.hint ?? '', /changed on the way/);
      assert.deepEqual(readdirSync(dir), [], 'neither agent.js nor the damaged temp file is left');

      // The same call with the true bytes installs it.
      await uploadBundle(client, n.name, n.home, bundle, process.execPath);
      assert.equal(sha256(join(dir, 'agent.js')), bundle.sha256);
    } finally {
      client.end();
    }
  });

  it("a node that cannot write the agent's folder gets a hint about that, not about SFTP", async function () {
    this.timeout(60_000);
    const n = s.net.nodes[2]!;
    const dir = await agentDir(2);
    s.net.exec(2, ['mkdir', '-p', dir], { asUser: true });
    s.net.exec(2, ['chmod', '500', dir], { asUser: true });
    try {
      const err = await s
        .client(2)
        .connect()
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.ok(err instanceof VendettaError, String(err));
      assert.equal(err.code, 'AGENT_INSTALL_FAILED');
      assert.match(err.message, /Sending the agent to .* failed/);
      assert.match(err.hint ?? '', new RegExp(`cannot write ${dir.replace(/[.]/g, '\\.')} on ${n.name}`));
      assert.doesNotMatch(`${err.message} ${err.hint}`, /\bSFTP\b|free space/);
    } finally {
      s.net.exec(2, ['chmod', '700', dir], { asUser: true });
    }
    assert.deepEqual(readdirSync(dir), []);
  });
});
