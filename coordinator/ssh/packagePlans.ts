/**
 * What `node add` and `node prepare` run with a node's package manager, as data: one step per
 * command, argv arrays (never a shell line), marked when it needs root. Pure, so the exact
 * commands are tested for each distribution family without one, and printed before they run.
 */
import type { NodeFacts, PackageManager } from './nodeFacts';
import { shellCommand } from './shellQuote';

export type PreparableProvider = 'docker' | 'lxc' | 'qemu';

export interface PlanStep {
  title: string;
  argv: string[];
  /** Runs as root (directly, or through `sudo -n`). */
  root: boolean;
  /** Fed to the command's stdin (LXD's preseed). */
  stdin?: string;
  /** Skipped when this command (run the same way) exits 0: e.g. LXD already has a storage pool. */
  unless?: string[];
  /** Said before the step runs, e.g. what a group grants. */
  warning?: string;
}

const APT_ENV = ['env', 'DEBIAN_FRONTEND=noninteractive'];

/** The package manager's "refresh the index" and "install these" commands. */
function installSteps(pm: PackageManager, packages: string[], what: string): PlanStep[] {
  switch (pm) {
    case 'apt':
      return [
        { title: 'refresh the package index', argv: [...APT_ENV, 'apt-get', 'update'], root: true },
        {
          title: `install ${what}`,
          argv: [...APT_ENV, 'apt-get', 'install', '-y', '--no-install-recommends', ...packages],
          root: true,
        },
      ];
    case 'dnf':
      return [{ title: `install ${what}`, argv: ['dnf', 'install', '-y', ...packages], root: true }];
    case 'zypper':
      return [{ title: `install ${what}`, argv: ['zypper', '--non-interactive', 'install', ...packages], root: true }];
    case 'apk':
      return [{ title: `install ${what}`, argv: ['apk', 'add', '--no-cache', ...packages], root: true }];
  }
}

/** Node.js for the agent from the distribution (whose version the caller checks afterwards). */
export function runtimePlan(pm: PackageManager): PlanStep[] {
  const pkg: Record<PackageManager, string[]> = {
    apt: ['nodejs'],
    dnf: ['nodejs'],
    zypper: ['nodejs-default'],
    apk: ['nodejs'],
  };
  return installSteps(pm, pkg[pm], 'Node.js');
}

const PACKAGES: Record<PreparableProvider, Record<PackageManager, string[]>> = {
  docker: { apt: ['docker.io'], dnf: ['moby-engine'], zypper: ['docker'], apk: ['docker'] },
  // Debian's lxd (5.0) where apt is; Incus, LXD's community fork with the same API, elsewhere.
  lxc: { apt: ['lxd'], dnf: ['incus'], zypper: ['incus'], apk: ['incus'] },
  qemu: {
    apt: ['qemu-system-x86', 'qemu-utils', 'cloud-image-utils'],
    dnf: ['qemu-system-x86-core', 'qemu-img', 'cloud-utils'],
    zypper: ['qemu-x86', 'qemu-tools', 'cloud-init'],
    apk: ['qemu-system-x86_64', 'qemu-img', 'cloud-utils'],
  },
};

/** The minimal LXD/Incus set-up: a `dir` storage pool and a NAT bridge, as `init --preseed` reads it. */
export const LXD_PRESEED = [
  'storage_pools:',
  '- name: default',
  '  driver: dir',
  'networks:',
  '- name: vendettabr0',
  '  type: bridge',
  '  config:',
  '    ipv4.address: auto',
  '    ipv6.address: none',
  'profiles:',
  '- name: default',
  '  devices:',
  '    root: { path: /, pool: default, type: disk }',
  '    eth0: { name: eth0, network: vendettabr0, type: nic }',
  '',
].join('\n');

/** PID 1 names of init systems that start services (and run /etc/init.d scripts or their own). */
const INIT_SYSTEMS = new Set(['systemd', 'init', 'openrc-init', 'runit', 'runit-init', 's6-svscan', 'upstart']);

/** The node runs no init system at all (PID 1 is a shell, sshd, tini…): nothing would start a service. */
export function withoutInit(facts: Pick<NodeFacts, 'systemd' | 'init'>): boolean {
  return !facts.systemd && facts.init !== '' && !INIT_SYSTEMS.has(facts.init);
}

/**
 * dockerd started by hand where no init system runs, logging where Debian's init script logs, and
 * waited for until the engine answers (a start that fails says why, from the log's tail).
 */
const DOCKERD_BY_HAND =
  'docker version >/dev/null 2>&1 && exit 0; ' +
  'setsid dockerd >>/var/log/docker.log 2>&1 </dev/null & ' +
  'i=0; while [ $i -lt 60 ]; do docker version >/dev/null 2>&1 && exit 0; sleep 0.5; i=$((i+1)); done; ' +
  'echo "dockerd did not answer within 30 s; the end of /var/log/docker.log:" >&2; tail -n 5 /var/log/docker.log >&2; exit 1';

function serviceStart(facts: Pick<NodeFacts, 'systemd' | 'packageManager' | 'init'>, service: string): PlanStep {
  if (facts.systemd)
    return { title: `start ${service} now and at boot`, argv: ['systemctl', 'enable', '--now', service], root: true };
  if (facts.packageManager === 'apk')
    return {
      title: `start ${service} now and at boot`,
      argv: ['sh', '-c', 'rc-update add "$1" default && rc-service "$1" start', 'sh', service],
      root: true,
    };
  if (service === 'docker' && withoutInit(facts))
    return {
      title: 'start dockerd (this node runs no init system)',
      argv: ['sh', '-c', DOCKERD_BY_HAND],
      root: true,
      warning: `this node's PID 1 is ${facts.init}, not an init system, so no service manager starts Docker: dockerd is started by hand now (log: /var/log/docker.log) and will not start again when the node restarts; start it from whatever starts the node.`,
    };
  return { title: `start ${service}`, argv: ['service', service, 'start'], root: true };
}

function grantGroup(user: string, group: string, groups: readonly string[], rootEquivalent: boolean): PlanStep[] {
  if (user === 'root' || groups.includes(group)) return [];
  return [
    {
      title: `let ${user} use it (group ${group})`,
      argv: ['usermod', '-aG', group, user],
      root: true,
      ...(rootEquivalent
        ? {
            warning: `membership of ${group} is root-equivalent on this node: ${user} can then become root there. A node user kept for vendetta alone limits what that exposes.`,
          }
        : {}),
    },
  ];
}

/** Installs and sets up a provider for `facts.user`; empty when the node has no supported package manager. */
export function providerPlan(
  provider: PreparableProvider,
  facts: Pick<NodeFacts, 'packageManager' | 'systemd' | 'init' | 'user' | 'groups' | 'commands'>,
): PlanStep[] {
  const pm = facts.packageManager;
  if (!pm) return [];
  const steps = [
    ...installSteps(
      pm,
      PACKAGES[provider][pm],
      provider === 'docker' ? 'Docker' : provider === 'lxc' ? (pm === 'apt' ? 'LXD' : 'Incus') : 'QEMU',
    ),
  ];
  if (provider === 'docker') {
    steps.push(serviceStart(facts, 'docker'), ...grantGroup(facts.user, 'docker', facts.groups, true));
  } else if (provider === 'lxc') {
    const incus = pm !== 'apt';
    const [daemon, group, client] = incus ? ['incus', 'incus-admin', 'incus'] : ['lxd', 'lxd', 'lxc'];
    if (incus) steps.push(serviceStart(facts, 'incus'));
    steps.push({
      title: `set up ${incus ? 'Incus' : 'LXD'} with a dir storage pool and a bridge (skipped when it has a storage pool)`,
      argv: incus ? ['incus', 'admin', 'init', '--preseed'] : [daemon, 'init', '--preseed'],
      root: true,
      stdin: LXD_PRESEED,
      unless: ['sh', '-c', '[ -n "$("$1" storage list --format csv 2>/dev/null)" ]', 'sh', client],
    });
    steps.push(...grantGroup(facts.user, group, facts.groups, true));
  } else {
    // /dev/kvm's group; a machine without KVM (or without that group: no udev rules) runs VMs under TCG.
    steps.push(
      ...grantGroup(facts.user, 'kvm', facts.groups, false).map((s) => ({
        ...s,
        title: `${s.title}, when the node has /dev/kvm`,
        unless: ['sh', '-c', '[ ! -e /dev/kvm ] || ! getent group kvm >/dev/null'],
      })),
    );
  }
  return steps;
}

/** How a step reads on screen: `sudo` in front when the user is not root. */
export function stepCommand(step: PlanStep, viaSudo: boolean): string {
  const line = shellCommand(step.root && viaSudo ? ['sudo', ...step.argv] : step.argv);
  return step.stdin !== undefined ? `${line} <<'EOF'\n${step.stdin}EOF` : line;
}

/** The commands an administrator would run as root, for an error when we cannot. */
export function adminCommands(steps: readonly PlanStep[]): string[] {
  return steps.map((s) => stepCommand(s, false));
}
