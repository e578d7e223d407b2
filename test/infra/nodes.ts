/**
 * Real SSH nodes for integration tests (TEST-INFRA.md): one bridge, and per node a network
 * namespace joined by a veth, an OpenSSH server started in it and tracked by PID, and a Unix
 * user of its own (own $HOME, so its own agent). Several test runs may share this machine: each
 * takes a free index K (1..200) with a lock file holding its pid, names everything from K, and
 * first clears what a dead owner of K left behind.
 *
 *   K lock      /tmp/vendetta-test-net/K.json        files  /tmp/vendetta-test-net/K.d/
 *   bridge      vtbK (10.78.K.1/24)                   node I (1-based): netns vtKnI, veth vtKvI,
 *   user vtKuI, address 10.78.K.(10+I), sshd on port 22 of that address.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { acquireK, cleanupK, lockPath, myLock, names, retry, runDir } from './netLock';
import {
  commandExists,
  ensureSshdPrivsepDir,
  descendants,
  killPids,
  pidAlive,
  processCmdline,
  run,
  waitGoneSync,
} from './sys';

export { staleTestNetworks, TEST_NET_DIR } from './netLock';

const SSHD = '/usr/sbin/sshd';

export interface TestNode {
  /** 0-based position in `nodes`; resource names use index + 1. */
  index: number;
  name: string;
  host: string;
  port: number;
  user: string;
  uid: number;
  home: string;
  /** The client's private key, authorized on every node. */
  identity: string;
  netns: string;
  veth: string;
  sshdPid: number;
  hostKeyFingerprint: string;
  hostKeyPath: string;
  sshdConfig: string;
  sshdLog: string;
}

export interface TestNodes {
  k: number;
  dir: string;
  bridge: string;
  nodes: TestNode[];
  clientKey: { privateKeyPath: string; publicKeyPath: string; publicKey: string };
  /** Takes node i's link down (its veth on the bridge side): packets vanish, nothing is closed. */
  cutLink(i: number): void;
  restoreLink(i: number): void;
  /** Kills node i's sshd and every SSH session it serves, like a crash of the whole service. */
  stopSshd(i: number): void;
  /**
   * Starts node i's sshd. `nodeJs: 'missing'` or a version such as 'v16.20.2' starts it in a
   * mount namespace where the host's Node.js is hidden (or replaced by a fake of that version),
   * so the node's SSH sessions see no usable runtime; `fakeCommands` replaces programs the same
   * way. `sftp` rewrites the config with (true) or without (false) the SFTP
   * subsystem, as hardened servers do. Without it the config is left as it is (a test may have added to it).
   */
  startSshd(i: number, opts?: SshdOptions): Promise<void>;
  /** A new host key for node i (sshd restarted): its fingerprint. */
  changeHostKey(i: number): Promise<string>;
  /** Runs argv inside node i's namespace, as root or (asUser) as the node's user. */
  exec(
    i: number,
    argv: string[],
    opts?: { asUser?: boolean; allowFail?: boolean },
  ): { status: number | null; stdout: string; stderr: string };
  destroy(): Promise<void>;
}

export interface SshdOptions {
  nodeJs?: 'missing' | `v${string}`;
  sftp?: boolean;
  /**
   * Programs replaced by a shell script in the sshd's mount namespace (absolute path → script
   * text), so the node's sessions see, say, a `uname -m` of another architecture or an `ldd`
   * of musl, while the rest of the machine is untouched.
   */
  fakeCommands?: Record<string, string>;
}

function fingerprintOfFile(pubFile: string): string {
  const out = run(['ssh-keygen', '-lf', pubFile]).stdout;
  const m = /SHA256:[A-Za-z0-9+/]+/.exec(out);
  if (!m) throw new Error(`ssh-keygen -lf ${pubFile}: ${out}`);
  return m[0];
}

function sshdConfigText(node: { host: string; hostKeyPath: string; dir: string; user: string }, sftp = true): string {
  return [
    `ListenAddress ${node.host}`,
    'Port 22',
    `HostKey ${node.hostKeyPath}`,
    `PidFile ${node.dir}/sshd.pid`,
    `AuthorizedKeysFile ${node.dir}/authorized_keys`,
    `AllowUsers ${node.user}`,
    'UsePAM no',
    'StrictModes no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'UseDNS no',
    'PrintMotd no',
    'X11Forwarding no',
    'AllowTcpForwarding yes',
    'MaxStartups 100:30:200',
    ...(sftp ? ['Subsystem sftp internal-sftp'] : []),
    'LogLevel VERBOSE',
    '',
  ].join('\n');
}

function waitForPort(host: string, port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', (err) => {
        s.destroy();
        if (Date.now() > until) reject(new Error(`${host}:${port} did not open within ${ms} ms: ${err.message}`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

export async function createTestNodes(opts: { count: number; label?: string }): Promise<TestNodes> {
  const label =
    (opts.label ?? 'node')
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .replace(/^-+/, '')
      .slice(0, 40) || 'node';
  if (opts.count < 1 || opts.count > 240) throw new Error('createTestNodes: count must be 1..240');
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing (test/infra/setup.sh installs openssh-server)`);
  const k = acquireK(label);
  const n = names(k);
  const dir = runDir(k);
  const lock = myLock(label);
  let destroyed = false;
  const nodes: TestNode[] = [];

  const saveLock = () => writeFileSync(lockPath(k), JSON.stringify(lock));

  const destroySync = () => {
    if (destroyed) return;
    destroyed = true;
    process.removeListener('exit', destroySync);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.removeListener(sig, onSignal);
    cleanupK(k, lock);
    try {
      unlinkSync(lockPath(k));
    } catch {
      // already gone
    }
  };
  function onSignal(sig: NodeJS.Signals): void {
    destroySync();
    process.kill(process.pid, sig);
  }
  process.on('exit', destroySync);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, onSignal);

  const startSshd = async (i: number, o: SshdOptions = {}) => {
    const node = nodes[i]!;
    // Rewritten only when asked, so a test's own additions to the config (a forbidden forwarding,
    // a new host key) survive a restart.
    if (o.sftp !== undefined) {
      writeFileSync(
        node.sshdConfig,
        sshdConfigText(
          { host: node.host, hostKeyPath: node.hostKeyPath, dir: dirname(node.sshdConfig), user: node.user },
          o.sftp,
        ),
      );
    }
    const logFd = openSync(node.sshdLog, 'a');
    const sshd = ['ip', 'netns', 'exec', node.netns, SSHD, '-D', '-e', '-f', node.sshdConfig];
    const argv = [...mountPrefix(dir, i, o), ...sshd];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    child.on('error', () => undefined);
    if (!child.pid) throw new Error(`could not start sshd for ${node.name}`);
    node.sshdPid = child.pid; // unshare, sh and `ip netns exec` all exec: same pid as sshd
    lock.sshdPids.push(child.pid);
    saveLock();
    try {
      await waitForPort(node.host, 22, 10_000);
    } catch (err) {
      throw new Error(
        `sshd of ${node.name} did not start: ${(err as Error).message}\n${readFileSync(node.sshdLog, 'utf8').slice(-2000)}`,
      );
    }
  };

  const stopSshd = (i: number) => {
    const node = nodes[i]!;
    const pid = node.sshdPid;
    if (!pid || !pidAlive(pid)) return;
    const sessions = descendants(pid).filter((p) => (processCmdline(p)[0] ?? '').includes('sshd'));
    killPids([pid, ...sessions], 'SIGKILL');
    waitGoneSync([pid, ...sessions], 3_000);
    lock.sshdPids = lock.sshdPids.filter((p) => p !== pid);
    saveLock();
    node.sshdPid = 0;
  };

  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    ensureSshdPrivsepDir();
    const clientKey = join(dir, 'client_key');
    run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `vendetta-test-${k}`, '-f', clientKey]);
    const publicKey = readFileSync(`${clientKey}.pub`, 'utf8').trim();

    run(['ip', 'link', 'add', n.bridge, 'type', 'bridge']);
    run(['ip', 'addr', 'add', `${n.bridgeIp}/24`, 'dev', n.bridge]);
    run(['ip', 'link', 'set', n.bridge, 'up']);
    // dockerd sets FORWARD to DROP, which would cut node-to-node traffic on our bridge.
    if (commandExists('iptables') && run(['iptables', '-n', '-L', 'DOCKER-USER'], { allowFail: true }).status === 0) {
      run(['iptables', '-I', 'DOCKER-USER', '-i', n.bridge, '-o', n.bridge, '-j', 'ACCEPT']);
    }

    for (let idx = 0; idx < opts.count; idx++) {
      const i = idx + 1;
      const netns = n.netns(i);
      const veth = n.veth(i);
      const user = n.user(i);
      const host = n.ip(i);
      const ndir = join(dir, `n${i}`);
      mkdirSync(ndir, { recursive: true, mode: 0o755 });
      chmodSync(ndir, 0o755);
      run(['ip', 'netns', 'add', netns]);
      run(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
      run(['ip', 'link', 'set', veth, 'master', n.bridge, 'up']);
      run(['ip', '-n', netns, 'addr', 'add', `${host}/24`, 'dev', 'eth0']);
      run(['ip', '-n', netns, 'link', 'set', 'eth0', 'up']);
      run(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);

      retry(() => run(['useradd', '-m', '-d', `/home/${user}`, '-s', '/bin/sh', user]));
      retry(() => run(['usermod', '-p', '*', user])); // unlocked, but no password: keys only
      const uid = Number(run(['id', '-u', user]).stdout.trim());

      const hostKeyPath = join(ndir, 'ssh_host_ed25519_key');
      run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `${label}-${i}`, '-f', hostKeyPath]);
      writeFileSync(join(ndir, 'authorized_keys'), publicKey + '\n', { mode: 0o644 });
      const sshdConfig = join(ndir, 'sshd_config');
      writeFileSync(sshdConfig, sshdConfigText({ host, hostKeyPath, dir: ndir, user }));
      nodes.push({
        index: idx,
        name: `${label}-${i}`,
        host,
        port: 22,
        user,
        uid,
        home: `/home/${user}`,
        identity: clientKey,
        netns,
        veth,
        sshdPid: 0,
        hostKeyFingerprint: fingerprintOfFile(`${hostKeyPath}.pub`),
        hostKeyPath,
        sshdConfig,
        sshdLog: join(ndir, 'sshd.log'),
      });
    }
    await Promise.all(nodes.map((_, i) => startSshd(i)));

    return {
      k,
      dir,
      bridge: n.bridge,
      nodes,
      clientKey: { privateKeyPath: clientKey, publicKeyPath: `${clientKey}.pub`, publicKey },
      cutLink: (i) => void run(['ip', 'link', 'set', nodes[i]!.veth, 'down']),
      restoreLink: (i) => void run(['ip', 'link', 'set', nodes[i]!.veth, 'up']),
      stopSshd,
      startSshd,
      async changeHostKey(i) {
        const node = nodes[i]!;
        stopSshd(i);
        rmSync(node.hostKeyPath, { force: true });
        rmSync(`${node.hostKeyPath}.pub`, { force: true });
        run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `${node.name}-rekeyed`, '-f', node.hostKeyPath]);
        node.hostKeyFingerprint = fingerprintOfFile(`${node.hostKeyPath}.pub`);
        await startSshd(i);
        return node.hostKeyFingerprint;
      },
      exec(i, argv, o = {}) {
        const node = nodes[i]!;
        const inner = o.asUser
          ? ['runuser', '-u', node.user, '--', 'env', `HOME=${node.home}`, `USER=${node.user}`, ...argv]
          : argv;
        return run(['ip', 'netns', 'exec', node.netns, ...inner], { allowFail: o.allowFail });
      },
      async destroy() {
        destroySync();
      },
    };
  } catch (err) {
    destroySync();
    throw err;
  }
}

/** Where the node's setup script looks for Node.js, as found on this machine. */
function hostNodeJsPaths(): string[] {
  const opt = existsSync('/opt')
    ? readdirSync('/opt')
        .filter((d) => d.startsWith('node'))
        .map((d) => `/opt/${d}/bin/node`)
    : [];
  return ['/usr/bin/node', '/usr/local/bin/node', ...opt].filter((p) => existsSync(p));
}

/**
 * An argv prefix: a private mount namespace with the host's Node.js hidden or faked and the fake
 * commands bound over the real ones, then exec; empty when nothing is to be hidden.
 */
function mountPrefix(dir: string, i: number, o: SshdOptions): string[] {
  const binds: string[] = [];
  if (o.nodeJs) {
    let fake = '/dev/null'; // not executable: the setup script skips it
    if (o.nodeJs !== 'missing') {
      if (!/^v\d+\.\d+\.\d+$/.test(o.nodeJs)) throw new Error(`startSshd: bad Node.js version ${o.nodeJs}`);
      fake = join(dir, `fake-node-${o.nodeJs}`);
      writeFileSync(
        fake,
        `#!/bin/sh\nif [ "$1" = --version ]; then echo ${o.nodeJs}; exit 0; fi\necho "fake Node.js ${o.nodeJs}" >&2; exit 1\n`,
        { mode: 0o755 },
      );
    }
    for (const target of hostNodeJsPaths()) binds.push(fake, target);
  }
  for (const [target, text] of Object.entries(o.fakeCommands ?? {})) {
    if (!target.startsWith('/') || !existsSync(target))
      throw new Error(`startSshd: ${target} is not an existing absolute path`);
    const fake = join(dir, `n${i + 1}-fake${target.replace(/\//g, '-')}`);
    writeFileSync(fake, text, { mode: 0o755 });
    binds.push(fake, target);
  }
  if (binds.length === 0) return [];
  const script = 'while [ "$1" != -- ]; do mount --bind "$1" "$2" || exit 1; shift 2; done; shift; exec "$@"';
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...binds, '--'];
}
