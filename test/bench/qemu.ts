/**
 * QEMU workspace benchmark: `up` of a QEMU workspace until its SSH server lets the real OpenSSH
 * client in (the agent's WorkspaceManager and QemuProvider, in this process), beside a raw
 * `qemu-system-x86_64` boot of the same guest image with a seed of the same kind (the same
 * host key and control login from cloud-init) and the same accelerator, until its first SSH
 * login — in the same run, alternating. One sample each: a TCG boot takes about a minute.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nullLogger } from '../../agent/log/logger';
import { emulatorArgv } from '../../agent/providers/qemu/argv';
import { QemuProvider } from '../../agent/providers/qemu/provider';
import { seedImage } from '../../agent/providers/qemu/seed';
import { endVm, launch } from '../../agent/providers/qemu/vmProcess';
import { nodePortProbe } from '../../agent/services/ports';
import { generateHostKey } from '../../agent/workspaces/hostKey';
import { WorkspaceManager } from '../../agent/workspaces/manager';
import { ensureQemuGuest, type QemuGuest } from '../infra/qemuGuest';
import { commandExists } from '../infra/sys';
import { result, type Benchmark } from './harness';

const BINARY = 'qemu-system-x86_64';

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
async function rawBoot(guest: QemuGuest, dir: string, clientKey: string): Promise<number> {
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
    accel: 'tcg',
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
    const dir = mkdtempSync(join(tmpdir(), 'vendetta-qemu-bench-'));
    const home = join(dir, 'agent');
    mkdirSync(join(home, 'state'), { recursive: true });
    const clientKey = join(dir, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
    const provider = new QemuProvider({ root: join(home, 'qemu'), binary: BINARY });
    const manager = new WorkspaceManager({
      home,
      stateDir: join(home, 'state'),
      logger: nullLogger,
      providers: () => provider,
      sshReadyTimeoutMs: 120_000,
    });
    const rssMiB = (): number =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;
    try {
      const idleRss = rssMiB();
      const raw = await rawBoot(guest, dir, clientKey);
      const t0 = Date.now();
      const info = await manager.create({
        name: 'bench',
        provider: 'qemu',
        qemu: {
          image: guest.image,
          kernel: guest.kernel,
          initrd: guest.initrd,
          append: guest.append,
          accel: 'tcg',
          cpus: 2,
          memoryBytes: 1024 ** 3,
        },
        env: {},
        user: 'root',
        workspaceFolder: '/workspaces/bench',
        authorizedKeys: [readFileSync(`${clientKey}.pub`, 'utf8').trim()],
      });
      const known = join(dir, 'known_hosts');
      writeFileSync(known, `[127.0.0.1]:${info.ssh!.port} ${info.ssh!.hostKey.publicKey}\n`);
      while (!sshLogin(info.ssh!.port, clientKey, known)) await new Promise((r) => setTimeout(r, 200));
      const ours = Date.now() - t0;
      const rss = rssMiB();
      return [
        result(
          'qemu-workspace-up-to-ssh-login',
          ours / 1000,
          's',
          'raw-qemu-system-boot-to-ssh-login',
          raw / 1000,
          1.2,
          'TCG here (no usable KVM); same guest image, seed kind, accelerator, CPUs and memory',
        ),
        result(
          'qemu-agent-rss-one-vm',
          rss,
          'MiB',
          'same-process-before-up',
          idleRss,
          null,
          "RSS of the process running the agent code (WorkspaceManager + QemuProvider) with one VM up and its held SSH connection; the VM itself is QEMU's process",
        ),
      ];
    } finally {
      await manager.remove('bench', true).catch(() => undefined);
      provider.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
