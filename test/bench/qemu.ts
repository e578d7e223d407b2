/**
 * QEMU workspace benchmark, through the built CLI on the local node and the real OpenSSH client:
 * - qemu-workspace-up-to-ssh-login: from the start of `workspace up` of examples/hello to the first
 *   `ssh <alias> true` that works through the generated config (tried every 500 ms), beside a raw `qemu-system-x86_64` boot of the
 *   same guest image with a seed of the same kind (a host key and a login key from cloud-init), the
 *   same accelerator (what `accel: auto` picks here), CPUs and memory, until its first SSH login. In
 *   the same run, five of each, alternating. The workspace also gets its project folder synced
 *   and shared (9p), its SSH server set up in the guest and a pinned host key. Where ours spent
 *   more (TCG, session 8): the boot wait's first ssh2 login held a connection that QEMU's user
 *   network accepts before the guest can answer, for its whole 20 s timeout; the queued files went
 *   in one exec each, the 9p mount and the SSH server one after the other, and a new unit cost a
 *   `systemctl daemon-reload` (46.5 s vs 38.3 s before; now a banner probe, one exec, side by side,
 *   no reload for a new unit).
 * - qemu-agent-daemon-rss: the local agent daemon's RSS once that `up` is done (the VM running,
 *   examples/hello's three services up and checked in it), beside the same daemon before the `up`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseAccel } from '../../agent/providers/qemu/accel';
import { emulatorArgv } from '../../agent/providers/qemu/argv';
import { seedImage } from '../../agent/providers/qemu/seed';
import { endVm, launch } from '../../agent/providers/qemu/vmProcess';
import { nodePortProbe } from '../../agent/services/ports';
import { generateHostKey } from '../../agent/workspaces/hostKey';
import { ensureQemuGuest, type QemuGuest } from '../infra/qemuGuest';
import { commandExists } from '../infra/sys';
import { createCliHome } from '../integration/coordinatorHarness';
import { endHomeVms, QEMU_CONFIG, QEMU_ROW } from '../integration/lifecycleQemu';
import { helloFor } from '../integration/lifecycleRun';
import { commandsIn } from '../integration/workspaceHarness';
import { median, result, type Benchmark } from './harness';
import { must } from './workspaces';

const BINARY = 'qemu-system-x86_64';
/** A TCG boot takes 31-46 s here, varying run to run: five of each, about 9 min in all. */
const RUNS = 5;

function sshLogin(port: number, key: string, knownHosts: string): boolean {
  const r = spawnSync(
    'ssh',
    [
      '-i',
      key,
      '-p',
      String(port),
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'ConnectTimeout=5',
      'root@127.0.0.1',
      'true',
    ],
    { timeout: 15_000 },
  );
  return r.status === 0;
}

/** The raw boot: overlay, seed, `qemu-system … -daemonize`, then ssh until a login works. */
async function rawBoot(guest: QemuGuest, dir: string, accel: 'kvm' | 'tcg', clientKey: string): Promise<number> {
  const vm = join(dir, 'raw');
  rmSync(vm, { recursive: true, force: true });
  mkdirSync(vm, { recursive: true });
  const hostKey = generateHostKey('raw');
  const pub = readFileSync(`${clientKey}.pub`, 'utf8').trim();
  const t0 = Date.now();
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', guest.image, join(vm, 'disk.qcow2')]);
  writeFileSync(
    join(vm, 'seed.iso'),
    seedImage({ instanceId: `raw-${Date.now()}`, hostname: 'raw', hostKey, controlPublicKey: pub }),
  );
  const ports = { ssh: await nodePortProbe.anyFree(), control: await nodePortProbe.anyFree(), services: [] };
  const argv = emulatorArgv({
    dir: vm,
    name: 'raw',
    accel,
    boot: { cpus: 2, memoryMiB: 1024, kernel: guest.kernel, initrd: guest.initrd, append: guest.append },
    ports,
    nodeFolder: dir,
  });
  const launched = await launch(BINARY, argv, join(vm, 'qemu.err'));
  if (launched.code !== 0) throw new Error(`raw qemu failed: ${launched.stderr}`);
  const known = join(vm, 'known_hosts');
  writeFileSync(known, `[127.0.0.1]:${ports.control} ${hostKey.publicKey}\n`);
  try {
    while (!sshLogin(ports.control, clientKey, known)) {
      if (Date.now() - t0 > 900_000) throw new Error('the raw guest did not answer SSH within 15 min');
      await new Promise((r) => setTimeout(r, 500));
    }
    return Date.now() - t0;
  } finally {
    await endVm(join(vm, 'qemu.pid'), join(vm, 'qmp.sock'), 0);
  }
}

export const qemuUp: Benchmark = {
  name: 'qemu-workspace-up',
  requires: () => {
    if (process.getuid?.() !== 0) return 'needs root (the guest is built with debootstrap)';
    const missing = [BINARY, 'qemu-img', 'ssh', 'debootstrap'].filter((c) => !commandExists(c));
    return missing.length ? `needs ${missing.join(', ')} (test/infra/setup.sh installs them)` : undefined;
  },
  async run() {
    const guest = await ensureQemuGuest();
    const choice = await chooseAccel('auto', BINARY);
    if ('error' in choice) throw new Error(choice.error);
    const h = createCliHome();
    const env = commandsIn(h, [], {});
    const daemonRssMiB = (): number => {
      const { pid } = JSON.parse(readFileSync(join(h.home, 'local-agent', 'daemon.pid'), 'utf8')) as { pid: number };
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    };
    try {
      const clientKey = join(h.dir, 'raw_ed25519');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
      // examples/hello with its three services; ssh-ready is the first login while `up` runs (its ssh_config
      // block is written before the code sync and the services, which `up` then waits for).
      const project = helloFor(h.dir, QEMU_CONFIG(guest), (text) => QEMU_ROW.adaptProject!(text));
      // The coordinator and the local agent start once, outside the samples.
      must(await env.cli(['node', 'status']), 'node status');
      const idleRss = daemonRssMiB();

      const raws: number[] = [];
      const ups: number[] = [];
      const healthies: number[] = [];
      let rss = 0;
      for (let i = 0; i < RUNS; i++) {
        raws.push(await rawBoot(guest, h.dir, choice.accel, clientKey));
        const t0 = Date.now();
        const up = env.cli(['workspace', 'up', project], { timeoutMs: 900_000 });
        let upDone = false;
        void up.finally(() => (upDone = true));
        let ours: number | undefined;
        while (ours === undefined && !upDone) {
          if ((await env.ssh('hello.local.vendetta', ['true'])).code === 0) ours = Date.now() - t0;
          else await new Promise((r) => setTimeout(r, 500));
        }
        must(await up, 'workspace up');
        healthies.push(Date.now() - t0);
        if (ours === undefined) {
          must(await env.ssh('hello.local.vendetta', ['true']), 'ssh');
          ours = Date.now() - t0;
        }
        ups.push(ours);
        const services = must(await env.cli(['workspace', 'status', 'hello', '--json']), 'status');
        const states = (JSON.parse(services.stdout) as { services?: Array<{ state: string }> }).services?.map(
          (s) => s.state,
        );
        if (states?.join() !== 'healthy,healthy,healthy')
          throw new Error(`the services are not all healthy: ${states?.join()}`);
        rss = Math.max(rss, daemonRssMiB());
        must(await env.cli(['workspace', 'rm', 'hello', '--force'], { timeoutMs: 300_000 }), 'workspace rm');
      }
      const secs = (ms: number[]) => ms.map((m) => (m / 1000).toFixed(1)).join('/');
      const accel = choice.accel === 'kvm' ? 'KVM' : 'TCG (no usable KVM here)';
      return [
        result(
          'qemu-workspace-up-to-ssh-login',
          median(ups) / 1000,
          's',
          'raw-qemu-system-boot-to-ssh-login',
          median(raws) / 1000,
          1.2,
          `medians of ${RUNS}, alternating, same run; ${accel}; same guest image, seed kind, CPUs (2) and memory (1 GiB); ours ${secs(ups)} s, raw ${secs(raws)} s; up went on to its three services healthy at ${secs(healthies)} s`,
        ),
        result(
          'qemu-agent-daemon-rss',
          rss,
          'MiB',
          'agent-daemon-rss-before-up',
          idleRss,
          null,
          "the local agent daemon with one VM running and examples/hello's three services up and checked; the VM is QEMU's own process",
        ),
      ];
    } finally {
      await env.cli(['workspace', 'rm', 'hello', '--force'], { timeoutMs: 300_000 }).catch(() => undefined);
      await endHomeVms(h.home);
      await h.cleanup();
    }
  },
};
