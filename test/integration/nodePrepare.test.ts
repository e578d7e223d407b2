// `vendetta node prepare` against a real Debian node over OpenSSH: the dry run prints exactly the
// commands it would run (sudo in front, the root-equivalent group said out loud); a user who cannot
// become root — no sudo at all, or sudo that asks for a password — gets NODE_PRIVILEGE_REQUIRED with
// the commands an administrator would run, and nothing runs. (A real Docker install is not run here:
// these test nodes share this machine's filesystem, where Docker is installed already.
// nodeFreshDebian.test.ts runs the real install on a node with its own root file system.)
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { providerPlan } from '../../coordinator/ssh/packagePlans';
import { setupSshSuite, type SshSuite } from '../infra/sshSuite';
import { createCliHome, nodeAddArgs, type CliHome } from './coordinatorHarness';

/**
 * These nodes share this machine's processes: Docker's start follows its PID 1 — the package's
 * service where an init system runs, dockerd by hand where none does (as on CI's machines).
 */
const pid1 = readFileSync('/proc/1/comm', 'utf8').trim();
const startDocker = ['init', 'systemd', 'openrc-init', 'runit', 'runit-init', 's6-svscan', 'upstart'].includes(pid1)
  ? 'service docker start'
  : `sh -c '${providerPlan('docker', { packageManager: 'apt', systemd: false, init: pid1, user: 'x', groups: [], commands: [] })[2]!.argv[2]!}'`;
const escapeRe = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('node prepare: the commands a provider needs, printed first, never run without root (real sshd)', function () {
  let s: SshSuite;
  let h: CliHome;
  let sudoers: string | undefined;

  before(async function () {
    this.timeout(90_000);
    s = await setupSshSuite(this, { count: 1, label: 'prepare' });
    h = createCliHome();
    const n = s.net.nodes[0]!;
    const r = await h.run(nodeAddArgs(n), { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async function () {
    this.timeout(60_000);
    if (sudoers) rmSync(sudoers, { force: true });
    await h?.cleanup();
    await s?.cleanup();
  });

  it('--dry-run prints the Debian commands for Docker, with sudo and the root-equivalent warning, and changes nothing', async function () {
    this.timeout(60_000);
    const n = s.net.nodes[0]!;
    const before = s.net.exec(0, ['id', '-nG'], { asUser: true }).stdout;
    const r = await h.run(['node', 'prepare', n.name, '--provider', 'docker', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^Would prepare ${n.name} for docker: Debian GNU/Linux 12 \\(bookworm\\) \\(x86_64\\), apt, as ${n.user}$`,
        'm',
      ),
    );
    const commands = [...r.stdout.matchAll(/^ {5}\$ (.*)$/gm)].map((m) => m[1]);
    assert.deepEqual(commands, [
      'sudo env DEBIAN_FRONTEND=noninteractive apt-get update',
      'sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io',
      `sudo ${startDocker}`,
      `sudo usermod -aG docker ${n.user}`,
    ]);
    assert.match(
      r.stdout,
      new RegExp(`note: membership of docker is root-equivalent on this node: ${n.user} can then become root there`),
    );
    assert.match(
      r.stdout,
      /an administrator would run, as root:\n {2}env DEBIAN_FRONTEND=noninteractive apt-get update\n/,
    );
    const json = await h.json<{ dryRun: boolean; privilege: string; steps: Array<{ status: string }> }>([
      'node',
      'prepare',
      n.name,
      '--provider',
      'docker',
      '--dry-run',
    ]);
    assert.equal(json.dryRun, true);
    assert.equal(json.privilege, 'none');
    assert.deepEqual(
      json.steps.map((x) => x.status),
      ['planned', 'planned', 'planned', 'planned'],
    );
    assert.equal(s.net.exec(0, ['id', '-nG'], { asUser: true }).stdout, before, 'no group was granted');
  });

  it("LXD and QEMU plans: lxd with a preseed (dir pool, bridge) unless a pool exists; QEMU's packages", async function () {
    this.timeout(60_000);
    const n = s.net.nodes[0]!;
    const lxd = await h.run(['node', 'prepare', n.name, '--provider', 'lxc', '--dry-run']);
    assert.equal(lxd.code, 0, lxd.stderr);
    assert.match(
      lxd.stdout,
      /\$ sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends lxd\n/,
    );
    assert.match(lxd.stdout, /\$ sudo lxd init --preseed <<'EOF'\n[\s\S]*driver: dir[\s\S]*type: bridge[\s\S]*EOF/);
    assert.match(lxd.stdout, new RegExp(`\\$ sudo usermod -aG lxd ${n.user}`));
    const qemu = await h.run(['node', 'prepare', n.name, '--provider', 'qemu', '--dry-run']);
    assert.match(
      qemu.stdout,
      /apt-get install -y --no-install-recommends qemu-system-x86 qemu-utils cloud-image-utils\n/,
    );
  });

  it('without sudo rights: NODE_PRIVILEGE_REQUIRED with the exact commands an administrator would run, nothing run', async function () {
    this.timeout(60_000);
    const n = s.net.nodes[0]!;
    const r = await h.run(['node', 'prepare', n.name, '--provider', 'docker', '--yes']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stderr,
      new RegExp(
        `^error: Preparing Docker on ${n.name} needs root, and ${n.user} (is not root and has no sudo|has no passwordless sudo)$`,
        'm',
      ),
    );
    assert.match(
      r.stderr,
      new RegExp(
        `^hint: Ask an administrator of ${n.name} to run, as root:\n {2}env DEBIAN_FRONTEND=noninteractive apt-get update\n {2}env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io\n {2}${escapeRe(startDocker)}\n {2}usermod -aG docker ${n.user}\nor give ${n.user} passwordless sudo for them, then retry\\.$`,
        'm',
      ),
    );
    const json = await h.run(['node', 'prepare', n.name, '--provider', 'docker', '--yes', '--json']);
    const e = JSON.parse(json.stdout) as { error: { code: string } };
    assert.equal(e.error.code, 'NODE_PRIVILEGE_REQUIRED');
  });

  it('sudo that asks for a password counts as no root: the same error, saying so', async function () {
    this.timeout(60_000);
    const n = s.net.nodes[0]!;
    sudoers = `/etc/sudoers.d/vendetta-test-${n.user}`;
    writeFileSync(sudoers, `${n.user} ALL=(ALL:ALL) ALL\n`, { mode: 0o440 });
    assert.notEqual(
      s.net.exec(0, ['sudo', '-n', 'true'], { asUser: true, allowFail: true }).status,
      0,
      'sudo wants a password',
    );
    const r = await h.run(['node', 'prepare', n.name, '--provider', 'docker', '--yes']);
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stderr,
      new RegExp(`^error: Preparing Docker on ${n.name} needs root, and ${n.user} has no passwordless sudo$`, 'm'),
    );
    assert.match(
      r.stderr,
      /^ {2}env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io$/m,
    );
    const dry = await h.run(['node', 'prepare', n.name, '--provider', 'docker', '--dry-run']);
    assert.match(dry.stdout, /cannot become root without a password/);
  });

  it('with passwordless sudo: asks for --yes without a terminal', async function () {
    this.timeout(120_000);
    const n = s.net.nodes[0]!;
    sudoers = `/etc/sudoers.d/vendetta-test-${n.user}`;
    writeFileSync(sudoers, `${n.user} ALL=(ALL:ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
    const unconfirmed = await h.run(['node', 'prepare', n.name, '--provider', 'docker']);
    assert.equal(unconfirmed.code, 2, unconfirmed.stderr);
    assert.match(
      unconfirmed.stderr,
      /^error: node prepare installs software on .*; it needs --yes when there is no terminal to ask on$/m,
    );
  });
});
