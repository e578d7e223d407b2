/**
 * "A fresh Debian box with only sshd" as a test node: a machine of its own file system, processes
 * and network, reached over SSH like any node. It takes the network slot of a namespace node made
 * by ./nodes.ts (its netns, address and client key; that node's host-filesystem sshd is stopped)
 * and runs there, in new mount, PID and UTS namespaces, the node's OWN sshd with an overlay as its root (pivot_root)
 * on the cached Debian tree of scripts/image/build-debian-node.mjs (OpenSSH, sudo, no Node.js).
 * The node has no route out; its only apt source is a flat repository of Docker's Debian packages,
 * cached on this machine and bound in read-only at /srv/debian-packages.
 *
 * PID 1 of the node is a shell that reaps orphans (as an init would) — no systemd, no init
 * scripts run at boot. Everything lives in the node's namespaces: stop() ends the node by killing
 * its PID 1 by PID (the kernel then ends every process of the node, its containers included), and
 * its mounts vanish with the mount namespace. A run killed before stop() leaves a netns of its
 * network index, whose processes the next run's cleanupK kills; the overlay's files live in that
 * index's run folder, which it removes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { TestNodes } from './nodes';
import { killPids, run, waitGoneSync, type RunResult } from './sys';

const BUILD_SCRIPT = join(__dirname, '../../scripts/image/build-debian-node.mjs');
/** Where the node finds its package repository. */
export const NODE_APT_DIR = '/srv/debian-packages';

export interface DebianNodeTree {
  rootfs: string;
  debs: string;
  user: string;
  built: boolean;
  buildMs: number;
}

export interface DebianNode {
  name: string;
  host: string;
  port: number;
  user: string;
  home: string;
  identity: string;
  hostKeyFingerprint: string;
  /** PID 1 of the node, seen from this machine. */
  initPid: number;
  tree: DebianNodeTree;
  /** A path inside the node, as this machine reaches it (through /proc/<pid>/root). */
  path(p: string): string;
  /** Runs argv inside the node (its namespaces and root), as root or as the node's user. */
  exec(argv: string[], opts?: { asUser?: boolean; allowFail?: boolean; timeoutMs?: number }): RunResult;
  stop(): void;
}

/** The cached tree and packages (built once per machine, ~40 s; then ~0.1 s). */
export function ensureDebianNodeTree(): DebianNodeTree {
  const r = spawnSync(process.execPath, [BUILD_SCRIPT], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`building the Debian node tree failed (exit ${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as DebianNodeTree;
}

function idsOf(rootfs: string, user: string): { uid: number; gid: number } {
  const line = readFileSync(join(rootfs, 'etc/passwd'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  const f = line?.split(':');
  if (!f) throw new Error(`${user} is not in the node tree's /etc/passwd`);
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

function waitForPort(host: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = connect({ host, port: 22 });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', (err) => {
        s.destroy();
        if (Date.now() > until) reject(err);
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

/**
 * Mounts the node's file systems (run by this machine's sh inside the new namespaces), makes the
 * overlay the namespace's root (pivot_root, not chroot: runc's `exec` into a container needs a
 * real root, as on a real box), drops this machine's tree, and execs the node's PID 1.
 */
const MOUNT_SCRIPT = `set -e
R=$1
mount -t overlay overlay -o "lowerdir=$2,upperdir=$3,workdir=$4" "$R"
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
mount --rbind /sys/fs/cgroup "$R/sys/fs/cgroup"
mount --rbind /dev "$R/dev"
mount -t tmpfs -o mode=0755 tmpfs "$R/run"
mkdir -p "$R/run/sshd" && mkdir -m 1777 "$R/run/lock"
mount --bind -o ro "$5" "$R${NODE_APT_DIR}"
mount --bind "$6" "$R/var/lib/docker"
hostname "$7"
cd "$R"
pivot_root . mnt
exec /bin/sh -c 'umount -l /mnt; /usr/sbin/sshd -D -e & while :; do wait; sleep 1; done'`;

/**
 * Turns slot `i` of `net` into a fresh Debian box. `sudo: 'passwordless'` gives the user
 * passwordless sudo (as Debian's cloud images do); 'none' leaves sudo to root alone.
 */
export async function startDebianNode(
  net: TestNodes,
  i: number,
  opts: { sudo: 'passwordless' | 'none'; name?: string },
): Promise<DebianNode> {
  const tree = ensureDebianNodeTree();
  const slot = net.nodes[i]!;
  net.stopSshd(i);
  const dir = join(net.dir, `debian-node-${i + 1}`);
  const upper = join(dir, 'upper');
  const work = join(dir, 'work');
  const root = join(dir, 'root');
  // The node's Docker data on this machine's disk, not on the overlay (overlay2 cannot nest in overlayfs).
  const dockerData = join(dir, 'docker-data');
  for (const d of [upper, work, root, dockerData]) mkdirSync(d, { recursive: true });
  const { uid, gid } = idsOf(tree.rootfs, tree.user);
  const home = `/home/${tree.user}`;
  const up = (p: string) => join(upper, p);
  // The node's own identity and settings, written into the overlay's upper layer before it is mounted.
  mkdirSync(up('etc/ssh/sshd_config.d'), { recursive: true });
  const hostKey = up('etc/ssh/ssh_host_ed25519_key');
  run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `${slot.name}-debian`, '-f', hostKey]);
  writeFileSync(
    up('etc/ssh/sshd_config.d/test-node.conf'),
    // The tree's sshd_config is Debian's; the test node listens on its address and skips PAM
    // (login sessions without a PAM stack set up for a chroot).
    `ListenAddress ${slot.host}\nHostKey /etc/ssh/ssh_host_ed25519_key\nUsePAM no\nLogLevel VERBOSE\n`,
  );
  mkdirSync(up(home.slice(1)), { recursive: true, mode: 0o755 });
  mkdirSync(up(`${home.slice(1)}/.ssh`), { mode: 0o700 });
  writeFileSync(up(`${home.slice(1)}/.ssh/authorized_keys`), net.clientKey.publicKey + '\n', { mode: 0o600 });
  for (const p of [home.slice(1), `${home.slice(1)}/.ssh`, `${home.slice(1)}/.ssh/authorized_keys`])
    chownSync(up(p), uid, gid);
  mkdirSync(up('etc/sudoers.d'), { recursive: true });
  if (opts.sudo === 'passwordless')
    writeFileSync(up('etc/sudoers.d/debian'), `${tree.user} ALL=(ALL:ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
  mkdirSync(up('etc/apt'), { recursive: true });
  writeFileSync(up('etc/apt/sources.list'), `deb [trusted=yes] file:${NODE_APT_DIR} ./\n`);
  mkdirSync(up(NODE_APT_DIR.slice(1)), { recursive: true });
  mkdirSync(up('var/lib/docker'), { recursive: true });
  const hostname = opts.name ?? slot.name;
  writeFileSync(up('etc/hostname'), `${hostname}\n`);
  writeFileSync(up('etc/hosts'), `127.0.0.1 localhost\n${slot.host} ${hostname}\n`);

  const logFd = openSync(join(dir, 'node.log'), 'a');
  // --kill-child: when unshare dies, the node's PID 1 (and with it the whole node) dies too.
  const holder: ChildProcess = spawn(
    'nsenter',
    [
      `--net=/run/netns/${slot.netns}`,
      '--',
      'unshare',
      '--mount',
      '--pid',
      '--uts',
      '--fork',
      '--kill-child',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      MOUNT_SCRIPT,
      'sh',
      root,
      tree.rootfs,
      upper,
      work,
      tree.debs,
      dockerData,
      hostname,
    ],
    { stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  holder.on('error', () => undefined);
  const holderPid = holder.pid;
  const initPid = (): number => {
    // unshare's only child is the node's PID 1.
    const r = run(['pgrep', '-P', String(holderPid)], { allowFail: true });
    return Number(r.stdout.trim().split('\n')[0] ?? 0);
  };
  const stop = () => {
    const pid = initPid();
    if (holderPid) killPids([holderPid, ...(pid ? [pid] : [])]);
    waitGoneSync([holderPid ?? 0, pid].filter(Boolean), 5_000);
    // Whatever still sits in the node's network namespace (nothing, unless PID 1 was gone already).
    const left = run(['ip', 'netns', 'pids', slot.netns], { allowFail: true })
      .stdout.split('\n')
      .filter(Boolean)
      .map(Number);
    killPids(left);
    waitGoneSync(left, 5_000);
  };
  try {
    if (!holderPid) throw new Error('could not start the node (nsenter/unshare)');
    await waitForPort(slot.host, 15_000).catch((err: Error) => {
      throw new Error(
        `the Debian node's sshd did not open: ${err.message}\n${readFileSync(join(dir, 'node.log'), 'utf8')}`,
      );
    });
    const pid = initPid();
    const fingerprint = /SHA256:[A-Za-z0-9+/]+/.exec(run(['ssh-keygen', '-lf', `${hostKey}.pub`]).stdout)?.[0] ?? '';
    const inNode = (p: string) => join(`/proc/${pid}/root`, p);
    return {
      name: opts.name ?? slot.name,
      host: slot.host,
      port: 22,
      user: tree.user,
      home,
      identity: net.clientKey.privateKeyPath,
      hostKeyFingerprint: fingerprint,
      initPid: pid,
      tree,
      path: inNode,
      exec(argv, o = {}) {
        const inner = o.asUser ? ['runuser', '-u', tree.user, '--', 'env', `HOME=${home}`, ...argv] : argv;
        return run(
          ['nsenter', `--target=${pid}`, '--mount', '--uts', '--pid', '--net', '--root', '--wd', '--', ...inner],
          {
            allowFail: o.allowFail,
            timeoutMs: o.timeoutMs,
          },
        );
      },
      stop,
    };
  } catch (err) {
    stop();
    throw err;
  }
}
