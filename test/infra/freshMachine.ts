/**
 * "A new user's machine" inside this one: a private mount namespace with an empty tmpfs on /run
 * (so no /run/sshd, no /var/run/docker.sock, no /run/containerd, no rootless engine socket) and a
 * network namespace of its own (loopback only: an engine started there makes its bridge there).
 * Everything else (/usr, /tmp, /root) is this machine's. A `sleep` holds both namespaces; commands
 * enter them with `nsenter --target <holder>`. stop() kills every process still in the namespace
 * (all were started through it) and deletes the network namespace; a run killed before its stop
 * is swept by the next start (its holder is gone, its netns name says whose it was).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { killPids, pidAlive, run, waitGoneSync } from './sys';

const PREFIX = 'vfm';

export interface FreshMachine {
  /** argv prefix that runs a command on the fresh machine, in `cwd` (entering a mount namespace resets it). */
  enter(cwd: string): string[];
  /** The holder's pid (its namespaces are the machine's). */
  pid: number;
  /** PIDs of every process in the machine's mount namespace, the holder excluded. */
  processes(): number[];
  stop(): void;
}

function sweepLeftovers(): void {
  for (const name of run(['ip', 'netns', 'list'], { allowFail: true })
    .stdout.split('\n')
    .map((l) => l.split(' ')[0] ?? '')) {
    const owner = Number(name.slice(PREFIX.length));
    if (name.startsWith(PREFIX) && Number.isInteger(owner) && owner > 0 && !pidAlive(owner))
      run(['ip', 'netns', 'delete', name], { allowFail: true });
  }
}

function nsOf(pid: number, kind: 'mnt' | 'net'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return undefined;
  }
}

export async function startFreshMachine(): Promise<FreshMachine> {
  sweepLeftovers();
  const netns = `${PREFIX}${process.pid}`;
  run(['ip', 'netns', 'delete', netns], { allowFail: true });
  run(['ip', 'netns', 'add', netns]);
  run(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
  const script = 'mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m 1777 /run/lock && echo ready && exec sleep 86400';
  const holder: ChildProcess = spawn(
    'nsenter',
    [`--net=/run/netns/${netns}`, '--', 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', script],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const ready = await new Promise<boolean>((resolve) => {
    holder.stdout!.once('data', (d: Buffer) => resolve(d.toString().includes('ready')));
    holder.once('exit', () => resolve(false));
  });
  if (!ready || !holder.pid) {
    holder.kill('SIGKILL');
    run(['ip', 'netns', 'delete', netns], { allowFail: true });
    throw new Error('could not make the fresh-machine namespaces (needs root, unshare and ip)');
  }
  const pid = holder.pid;
  const mnt = nsOf(pid, 'mnt');
  const processes = () =>
    readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((p) => p !== pid && nsOf(p, 'mnt') === mnt);
  return {
    enter: (cwd) => ['nsenter', `--target=${pid}`, '--mount', '--net', `--wd=${cwd}`, '--'],
    pid,
    processes,
    stop() {
      const left = processes();
      killPids(left);
      waitGoneSync(left);
      holder.kill('SIGKILL');
      waitGoneSync([pid]);
      run(['ip', 'netns', 'delete', netns], { allowFail: true });
    },
  };
}
