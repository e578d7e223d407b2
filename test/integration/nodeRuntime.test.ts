// Nodes without a usable Node.js, reached over real OpenSSH: `node add` says so and offers what it
// can do; with --install-runtime upload it brings the coordinator's own Node.js (checked against
// the node's kernel, machine and C library first, sha256-verified, proven to run), the agent runs
// on it, nodes.yaml remembers it and `node status` shows it. Nodes it cannot run on are refused
// with the reason, nothing uploaded; a package install without root lists the admin's commands.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setupSshSuite, type SshSuite } from '../infra/sshSuite';
import { createCliHome, nodeAddArgs, type CliHome } from './coordinatorHarness';

interface JsonError {
  error: { code: string; message: string; hint?: string };
}

describe('Nodes without Node.js: `node add` brings the agent a runtime, with consent (real sshd)', function () {
  let s: SshSuite;
  let h: CliHome;
  const runtimeDir = (i: number) => join(s.net.nodes[i]!.home, '.vendetta-agent', 'runtime');

  before(async function () {
    this.timeout(90_000);
    s = await setupSshSuite(this, { count: 4, label: 'runtime' });
    const fakes: Array<Record<string, string>> = [
      {},
      // Another architecture: everything else as on this machine.
      { '/usr/bin/uname': '#!/bin/sh\ncase "$1" in -m) echo aarch64;; *) echo Linux;; esac\n' },
      // musl's ldd: its banner on stderr, exit 1.
      { '/usr/bin/ldd': '#!/bin/sh\necho "musl libc (x86_64)" >&2\necho "Version 1.2.4" >&2\nexit 1\n' },
      // A glibc older than the binary needs.
      { '/usr/bin/ldd': '#!/bin/sh\necho "ldd (GNU libc) 2.17"\n' },
    ];
    for (let i = 0; i < 4; i++) {
      s.net.stopSshd(i);
      await s.net.startSshd(i, { nodeJs: 'missing', fakeCommands: fakes[i] });
    }
    h = createCliHome();
  });
  after(async function () {
    this.timeout(60_000);
    await h?.cleanup();
    await s?.cleanup();
  });

  const add = (i: number, extra: string[], timeoutMs = 120_000) =>
    h.run(nodeAddArgs(s.net.nodes[i]!, extra), { timeoutMs });

  it('without a choice and without a terminal: NODE_RUNTIME_MISSING naming the offers, nothing installed or saved', async function () {
    this.timeout(60_000);
    const r = await add(0, ['--json']);
    assert.equal(r.code, 1, r.stderr);
    const e = JSON.parse(r.stdout) as JsonError;
    assert.equal(e.error.code, 'NODE_RUNTIME_MISSING');
    assert.match(e.error.message, /has no Node\.js/);
    assert.match(e.error.hint ?? '', /`--install-runtime upload` \(upload this coordinator's Node\.js v\d+/);
    assert.match(
      e.error.hint ?? '',
      new RegExp(`Package: installing with apt needs root, and ${s.net.nodes[0]!.user} has no (passwordless )?sudo`),
    );
    assert.equal(existsSync(join(s.net.nodes[0]!.home, '.vendetta-agent')), false, 'nothing was put on the node');
    assert.equal(
      existsSync(h.nodesFile) ? readFileSync(h.nodesFile, 'utf8').includes(s.net.nodes[0]!.name) : false,
      false,
      'nothing was saved',
    );
  });

  it('on a terminal it asks, listing what it can and cannot do; declining installs nothing', async function () {
    this.timeout(60_000);
    const n = s.net.nodes[0]!;
    const r = await h.runOnTerminal(nodeAddArgs(n), 'n\n');
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /has no Node\.js/);
    assert.match(r.stdout, /1\) upload this coordinator's Node\.js v/);
    assert.match(r.stdout, /- {2}not possible: installing with apt needs root/);
    assert.match(r.stdout, /Bring the agent a Node\.js this way\? \[1\/N\]/);
    assert.match(r.stdout, /error: .*has no Node\.js/);
    assert.equal(existsSync(join(n.home, '.vendetta-agent')), false, 'nothing was put on the node');
  });

  it("--install-runtime upload: the coordinator's Node.js is uploaded, verified, and the agent runs on it, all on one SSH connection", async function () {
    this.timeout(120_000);
    const n = s.net.nodes[0]!;
    /** TCP connections the node's sshd accepted so far (its log says so for each). */
    const connections = () => readFileSync(n.sshdLog, 'utf8').match(/^Connection from /gm)?.length ?? 0;
    const before = connections();
    const r = await add(0, ['--install-runtime', 'upload', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(connections() - before, 1, 'the host key is checked on the connection that installs');
    const out = JSON.parse(r.stdout) as {
      node: { status: string; runtime?: { source: string; path: string; version: string } };
      runtimeInstalled?: { how: string; version: string; path: string };
    };
    assert.equal(out.node.status, 'online');
    assert.equal(out.runtimeInstalled?.how, 'upload');
    assert.equal(out.runtimeInstalled?.version, process.version);
    const dirs = readdirSync(runtimeDir(0));
    assert.equal(dirs.length, 1);
    const uploaded = join(runtimeDir(0), dirs[0]!, 'bin', 'node');
    assert.equal(out.runtimeInstalled?.path, uploaded);
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    assert.equal(sha(uploaded), sha(process.execPath), 'the exact bytes of this Node.js');
    assert.deepEqual(readdirSync(join(runtimeDir(0), dirs[0]!, 'bin')), ['node'], 'no temp file left');
    assert.deepEqual(out.node.runtime, { source: 'upload', path: uploaded, version: process.version });
    // The node itself still has no Node.js on PATH: the runtime is the agent's alone.
    const which = s.net.exec(0, ['sh', '-c', 'command -v node || echo none'], { asUser: true, allowFail: true });
    assert.doesNotMatch(which.stdout, /\.vendetta-agent/);

    assert.match(readFileSync(h.nodesFile, 'utf8'), new RegExp(`name: ${n.name}[\\s\\S]*runtime: upload`));
    const table = await h.run(['node', 'status', n.name]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`${process.version.replace(/\./g, '\\.')} \\(uploaded\\)`));

    // A purge takes the daemon's socket away: the next connect must not try it first.
    const endpoints = join(h.home, 'state', 'agent-endpoints.json');
    assert.match(readFileSync(endpoints, 'utf8'), new RegExp(n.host.replace(/\./g, '\\.')));
    const purge = await h.run(['node', 'remove', n.name, '--purge', '--yes']);
    assert.equal(purge.code, 0, purge.stderr);
    assert.equal(existsSync(runtimeDir(0)), false, 'the uploaded runtime went with the agent');
    assert.doesNotMatch(readFileSync(endpoints, 'utf8'), new RegExp(n.host.replace(/\./g, '\\.')));
  });

  for (const [i, what, reason] of [
    [1, 'another architecture', /the node is aarch64, and this Node\.js is built for x86_64/],
    [2, 'musl', /the node's C library is musl, and this Node\.js is built against glibc/],
    [3, 'a glibc too old', /the node has glibc 2\.17, and this Node\.js needs 2\.\d+ or newer/],
  ] as const) {
    it(`a node with ${what} is refused the upload with the reason, and nothing is sent`, async function () {
      this.timeout(60_000);
      const offered = await add(i, ['--json']);
      const offer = JSON.parse(offered.stdout) as JsonError;
      assert.equal(offer.error.code, 'NODE_RUNTIME_MISSING');
      assert.match(offer.error.hint ?? '', /Upload: cannot upload this coordinator's Node\.js/);
      assert.match(offer.error.hint ?? '', reason);

      const r = await add(i, ['--install-runtime', 'upload', '--json']);
      assert.equal(r.code, 1, r.stderr);
      const e = JSON.parse(r.stdout) as JsonError;
      assert.equal(e.error.code, 'NODE_RUNTIME_MISSING');
      assert.match(e.error.message, reason);
      assert.match(e.error.hint ?? '', /--install-runtime package/);
      assert.equal(existsSync(runtimeDir(i)), false, 'nothing was uploaded');
    });
  }

  it('--install-runtime package without root or sudo: NODE_PRIVILEGE_REQUIRED listing the commands an admin would run', async function () {
    this.timeout(60_000);
    const r = await add(1, ['--install-runtime', 'package']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: Installing Node\.js on .* needs root, and vt\S+ (is not root and has no sudo|has no passwordless sudo)$/m,
    );
    assert.match(r.stderr, /^hint: Ask an administrator of .* to run, as root:$/m);
    assert.match(r.stderr, /^ {2}env DEBIAN_FRONTEND=noninteractive apt-get update$/m);
    assert.match(
      r.stderr,
      /^ {2}env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs$/m,
    );
  });

  it('--install-runtime package with passwordless sudo runs the real commands through sudo -n, each announced first, and says when no usable Node.js came of it', async function () {
    this.timeout(300_000);
    const n = s.net.nodes[1]!;
    const sudoers = `/etc/sudoers.d/vendetta-test-${n.user}`;
    writeFileSync(sudoers, `${n.user} ALL=(ALL:ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
    try {
      // This machine's own Node.js is the newest nodejs apt knows, so the install changes nothing,
      // and the node's sshd hides it: what the agent finds afterwards is still nothing.
      const r = await add(1, ['--install-runtime', 'package'], 280_000);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /Node\.js 1\/2: refresh the package index: sudo env DEBIAN_FRONTEND=noninteractive apt-get update/,
      );
      if (/stopped at "refresh the package index"/.test(r.stderr)) {
        // No package mirror reachable from the node's namespace: the run stops at the step that failed.
        assert.match(
          r.stderr,
          /^error: Installing Node\.js on .* stopped at "refresh the package index": `sudo env DEBIAN_FRONTEND=noninteractive apt-get update` exited \d+/m,
        );
        assert.doesNotMatch(r.stderr, /Node\.js 2\/2/);
      } else {
        assert.match(
          r.stderr,
          /Node\.js 2\/2: install Node\.js: sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs/,
        );
        assert.match(
          r.stderr,
          /^error: The package manager's Node\.js install finished on .*, but the agent still finds no usable one: no Node\.js/m,
        );
        assert.match(r.stderr, /^hint: The package put no `node` where the agent looks/m);
      }
    } finally {
      rmSync(sudoers, { force: true });
    }
  });
});
