import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { formatPlan } from '../../../coordinator/cli/nodePrepare';
import { runtimeText } from '../../../coordinator/cli/nodeTables';
import { offerMenu } from '../../../coordinator/cli/runtimeOffer';
import { VendettaError } from '../../../coordinator/errors';
import type { NodeStatus } from '../../../coordinator/protocol';
import {
  adminCommands,
  providerPlan,
  runtimePlan,
  stepCommand,
  withoutInit,
} from '../../../coordinator/ssh/packagePlans';

const base = {
  packageManager: 'apt' as const,
  systemd: false,
  init: 'init',
  user: 'dev',
  groups: ['dev'],
  commands: [],
};
const lines = (steps: ReturnType<typeof providerPlan>, sudo = true) =>
  steps.map((s) => stepCommand(s, sudo).split('\n')[0]);

describe('what node prepare and --install-runtime package run, per distribution family', () => {
  it("Docker: the distribution's package, its service, the group (said to be root-equivalent)", () => {
    assert.deepEqual(lines(providerPlan('docker', { ...base, systemd: true })), [
      'sudo env DEBIAN_FRONTEND=noninteractive apt-get update',
      'sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io',
      'sudo systemctl enable --now docker',
      'sudo usermod -aG docker dev',
    ]);
    assert.match(providerPlan('docker', base).at(-1)!.warning ?? '', /root-equivalent/);
    assert.deepEqual(lines(providerPlan('docker', { ...base, packageManager: 'dnf', systemd: true }), false), [
      'dnf install -y moby-engine',
      'systemctl enable --now docker',
      'usermod -aG docker dev',
    ]);
    assert.deepEqual(lines(providerPlan('docker', { ...base, packageManager: 'apk', user: 'root' }), false), [
      'apk add --no-cache docker',
      'sh -c \'rc-update add "$1" default && rc-service "$1" start\' sh docker',
    ]);
    // Already in the group: nothing to grant.
    assert.equal(
      providerPlan('docker', { ...base, groups: ['dev', 'docker'] }).some((s) => s.argv[0] === 'usermod'),
      false,
    );
  });

  it('Docker per package manager: the whole plan dnf, zypper and apk run (their mirrors cannot be reached from here)', () => {
    const on = (pm: 'dnf' | 'zypper' | 'apk', systemd: boolean) =>
      lines(providerPlan('docker', { ...base, packageManager: pm, systemd, init: systemd ? 'systemd' : 'init' }));
    assert.deepEqual(on('dnf', true), [
      'sudo dnf install -y moby-engine',
      'sudo systemctl enable --now docker',
      'sudo usermod -aG docker dev',
    ]);
    assert.deepEqual(on('zypper', true), [
      'sudo zypper --non-interactive install docker',
      'sudo systemctl enable --now docker',
      'sudo usermod -aG docker dev',
    ]);
    assert.deepEqual(on('apk', false), [
      'sudo apk add --no-cache docker',
      'sudo sh -c \'rc-update add "$1" default && rc-service "$1" start\' sh docker',
      'sudo usermod -aG docker dev',
    ]);
  });

  it('a node with no init system (PID 1 a shell, sshd, tini): dockerd started by hand, waited for, and said not to survive a restart', () => {
    assert.equal(withoutInit({ systemd: false, init: 'sh' }), true);
    assert.equal(withoutInit({ systemd: false, init: 'tini' }), true);
    for (const init of ['init', 'systemd', 'openrc-init', 'runit', '']) {
      assert.equal(withoutInit({ systemd: false, init }), false, init);
    }
    const plan = providerPlan('docker', { ...base, init: 'sh' });
    const start = plan[2]!;
    assert.equal(start.title, 'start dockerd (this node runs no init system)');
    assert.equal(start.root, true);
    assert.deepEqual(start.argv.slice(0, 2), ['sh', '-c']);
    assert.match(start.argv[2]!, /setsid dockerd >>\/var\/log\/docker\.log 2>&1 <\/dev\/null &/);
    assert.match(start.argv[2]!, /docker version >\/dev\/null 2>&1 && exit 0/);
    assert.equal(spawnSync('sh', ['-n', '-c', start.argv[2]!]).status, 0, 'valid sh');
    assert.match(start.warning ?? '', /PID 1 is sh, not an init system[^]*will not start again when the node restarts/);
    // A sysvinit box (PID 1 `init`) uses the package's init script; LXD's start is not touched.
    assert.deepEqual(
      plan.map((s) => s.argv[0]),
      ['env', 'env', 'sh', 'usermod'],
    );
    assert.deepEqual(providerPlan('docker', base)[2]!.argv, ['service', 'docker', 'start']);
    assert.deepEqual(providerPlan('lxc', { ...base, packageManager: 'dnf', init: 'sh' })[1]!.argv, [
      'service',
      'incus',
      'start',
    ]);
  });

  it('LXD where apt is, Incus elsewhere, each initialised with a preseed only when it has no storage pool', () => {
    const lxd = providerPlan('lxc', base);
    assert.deepEqual(
      lxd.map((s) => (s.argv[0] === 'env' ? s.argv[2] : s.argv[0])),
      ['apt-get', 'apt-get', 'lxd', 'usermod'],
    );
    const init = lxd[2]!;
    assert.match(init.stdin ?? '', /driver: dir[\s\S]*type: bridge/);
    assert.deepEqual(init.unless?.slice(-1), ['lxc']);
    const incus = providerPlan('lxc', { ...base, packageManager: 'zypper' });
    assert.deepEqual(lines(incus, false), [
      'zypper --non-interactive install incus',
      'service incus start',
      "incus admin init --preseed <<'EOF'",
      'usermod -aG incus-admin dev',
    ]);
  });

  it("QEMU's packages and the kvm group; Node.js per manager; no plan without a known manager", () => {
    assert.deepEqual(lines(providerPlan('qemu', { ...base, packageManager: 'dnf' }), false), [
      'dnf install -y qemu-system-x86-core qemu-img cloud-utils',
      'usermod -aG kvm dev',
    ]);
    assert.equal(providerPlan('qemu', base).at(-1)?.warning, undefined);
    assert.deepEqual(providerPlan('qemu', base).at(-1)?.unless, [
      'sh',
      '-c',
      '[ ! -e /dev/kvm ] || ! getent group kvm >/dev/null',
    ]);
    assert.deepEqual(providerPlan('docker', { ...base, packageManager: undefined }), []);
    assert.deepEqual(
      runtimePlan('zypper').map((s) => s.argv.join(' ')),
      ['zypper --non-interactive install nodejs-default'],
    );
    assert.deepEqual(adminCommands(runtimePlan('apk')), ['apk add --no-cache nodejs']);
  });

  it("prints a plan with its commands, notes and the administrator's commands", () => {
    const text = formatPlan({
      name: 'n1',
      provider: 'docker',
      dryRun: true,
      system: 'Debian 12 (x86_64), apt, as dev',
      privilege: 'none',
      steps: [
        {
          title: 'install Docker',
          command: 'sudo apt-get install docker.io',
          status: 'planned',
          warning: 'root-equivalent',
        },
        { title: 'init', command: "sudo lxd init --preseed <<'EOF'\nx: 1\nEOF", status: 'skipped' },
      ],
      adminCommands: ['apt-get install docker.io'],
    });
    assert.equal(
      text,
      [
        'Would prepare n1 for docker: Debian 12 (x86_64), apt, as dev',
        '  1. install Docker',
        '     $ sudo apt-get install docker.io',
        '     note: root-equivalent',
        '  2. init (skipped: already done)',
        "     $ sudo lxd init --preseed <<'EOF'",
        '       x: 1',
        '       EOF',
        'n1: these need root, and the SSH user cannot become root without a password (no passwordless sudo); an administrator would run, as root:',
        '  apt-get install docker.io',
        '',
      ].join('\n'),
    );
  });

  it("shows the agent's runtime and where it came from; offers only what can work", () => {
    const st = (runtime?: NodeStatus['runtime']) => ({ runtime }) as NodeStatus;
    assert.equal(
      runtimeText(st({ source: 'upload', path: '/h/.vendetta-agent/runtime/x/bin/node', version: 'v20.1.0' })),
      'v20.1.0 (uploaded)',
    );
    assert.equal(
      runtimeText(st({ source: 'package', path: '/usr/bin/node', version: 'v18.19.0' })),
      'v18.19.0 (package)',
    );
    assert.equal(runtimeText(st({ source: 'node', path: '/usr/bin/node', version: 'v22.0.0' })), 'v22.0.0');
    assert.equal(runtimeText(st()), '-');
    const e = new VendettaError('NODE_RUNTIME_MISSING', 'n1 has no Node.js', {
      details: {
        offers: [
          { kind: 'upload', ok: false, detail: 'musl' },
          { kind: 'package', ok: true, detail: 'apt', commands: ['sudo apt-get install nodejs'] },
          { kind: 'bogus', ok: true, detail: 'x' },
        ],
      },
    });
    const menu = offerMenu(e);
    assert.deepEqual([...menu.choices], [['1', 'package']]);
    assert.equal(
      menu.text,
      'n1 has no Node.js.\n  -  not possible: musl\n  1) apt\n       sudo apt-get install nodejs\n',
    );
  });
});
