/**
 * QEMU workspaces against a real QEMU (TCG here: this machine has no usable KVM) and a real
 * Debian cloud-init guest built offline (test/infra/qemuGuest.ts), through the agent's own
 * WorkspaceManager: up, exec, the project folder, the pinned host key with the real OpenSSH
 * client, an agent restart, a killed QEMU, stop and rm. TCG boots take about a minute: one VM
 * serves the cases, booted twice in all. The cases that need no boot are in qemuWorkspaces.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nullLogger } from '../../agent/log/logger';
import type { QemuSettings, QemuWorkspaceSpec, WorkspaceInfo } from '../../agent/protocol';
import { QemuProvider } from '../../agent/providers/qemu/provider';
import { livePid } from '../../agent/providers/qemu/vmProcess';
import { nodePortProbe } from '../../agent/services/ports';
import { WorkspaceManager } from '../../agent/workspaces/manager';
import { ensureQemuGuest, type QemuGuest } from '../infra/qemuGuest';
import { requireCommands, requireRoot } from '../infra/sys';
import { DOTFILES_RAN, dotfilesRepo } from './dotfilesRepo';

const BINARY = 'qemu-system-x86_64';

describe('QEMU workspaces: one booted VM through the agent', function () {
  this.timeout(20 * 60_000);
  let guest: QemuGuest;
  let dir: string;
  let home: string;
  let clientKey: string;
  let provider: QemuProvider;
  let manager: WorkspaceManager;
  const progress: string[] = [];

  const managerFor = (p: QemuProvider): WorkspaceManager =>
    new WorkspaceManager({
      home,
      stateDir: join(home, 'state'),
      logger: nullLogger,
      providers: () => p,
      sshReadyTimeoutMs: 60_000,
    });
  const providerFor = (bootTimeoutMs = 900_000): QemuProvider =>
    new QemuProvider({
      root: join(home, 'qemu'),
      binary: BINARY,
      bootTimeoutMs: { kvm: bootTimeoutMs, tcg: bootTimeoutMs },
    });

  function spec(name: string, extra: Partial<QemuSettings> = {}): QemuWorkspaceSpec {
    return {
      name,
      provider: 'qemu',
      qemu: {
        image: guest.image,
        kernel: guest.kernel,
        initrd: guest.initrd,
        append: guest.append,
        accel: 'auto',
        cpus: 2,
        memoryBytes: 1024 * 1024 * 1024,
        ...extra,
      },
      env: { GREETING: 'hello from the node' },
      user: 'root',
      workspaceFolder: `/workspaces/${name}`,
      authorizedKeys: [readFileSync(`${clientKey}.pub`, 'utf8').trim()],
    };
  }

  /** The real OpenSSH client, trusting only the host key the agent reported. */
  function ssh(info: WorkspaceInfo, command: string): string {
    assert.ok(info.ssh);
    const knownHosts = join(dir, `known_hosts-${info.name}`);
    writeFileSync(knownHosts, `[127.0.0.1]:${info.ssh.port} ${info.ssh.hostKey.publicKey}\n`);
    return execFileSync(
      'ssh',
      [
        '-i',
        clientKey,
        '-p',
        String(info.ssh.port),
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'BatchMode=yes',
        '-o',
        `UserKnownHostsFile=${knownHosts}`,
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'ConnectTimeout=20',
        'root@127.0.0.1',
        command,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
  }

  const vmFolder = (info: WorkspaceInfo): string => join(home, 'qemu', info.providerId ?? 'none');

  before(async function () {
    requireRoot(this, 'the QEMU suite (the guest is built with debootstrap)');
    requireCommands(this, 'the QEMU suite', [BINARY, 'qemu-img', 'debootstrap', 'ssh', 'ssh-keygen']);
    guest = await ensureQemuGuest();
    dir = mkdtempSync(join(tmpdir(), 'vendetta-qemu-it-'));
    home = join(dir, 'agent');
    mkdirSync(join(home, 'state'), { recursive: true });
    clientKey = join(dir, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', clientKey]);
    provider = providerFor();
    manager = managerFor(provider);
  });

  after(async () => {
    if (!home) return;
    // Whatever a failed case left running is ended by its pid file, then the folder goes.
    const p = providerFor();
    for (const id of p.store.ids()) await p.remove(id).catch(() => undefined);
    provider?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let info: WorkspaceInfo;

  it('up boots the VM, says which accelerator it uses and streams the boot console', async () => {
    // With dotfiles: the node clones a local repository; they land in the guest as the login user.
    const dotfiles = { repository: dotfilesRepo(dir) };
    info = await manager.create(spec('vm1'), (_s, _t, m) => progress.push(m), false, undefined, undefined, dotfiles);
    assert.equal(info.state, 'running');
    assert.ok(
      progress.some((m) => /QEMU uses (TCG, software emulation, about 10× slower than KVM|KVM)/.test(m)),
      progress.join('\n'),
    );
    assert.ok(
      progress.some((m) => m.startsWith('console: ') && /Linux version|systemd/.test(m)),
      'the boot console is shown as progress',
    );
  });

  it('the workspace SSH server presents the pinned host key to the real OpenSSH client', () => {
    assert.equal(ssh(info, 'echo "$GREETING"; hostname').trim(), 'hello from the node\nvm1');
    assert.equal(
      ssh(info, `cat ~/${DOTFILES_RAN}`),
      '/root/dotfiles root\n',
      'the dotfiles were installed in the guest',
    );
  });

  it('exec runs inside the guest (its own kernel and init), with env, user and working folder', async () => {
    const r = await provider.exec(info.providerId!, ['sh', '-c', 'cat /proc/1/comm; echo "$A"; pwd; id -un'], {
      env: { A: "it's" },
      workingDir: '/tmp',
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, "systemd\nit's\n/tmp\nroot\n");
    const failed = await provider.exec(info.providerId!, ['sh', '-c', 'echo oops >&2; exit 7']);
    assert.deepEqual([failed.exitCode, failed.stderr], [7, 'oops\n']);
    const fed = await provider.exec(info.providerId!, ['wc', '-c'], { stdin: Buffer.from('12345') });
    assert.equal(fed.stdout.trim(), '5');
  });

  it('the project folder inside the VM is the node folder (9p), both ways', async () => {
    const nodeFolder = info.nodeFolder;
    writeFileSync(join(nodeFolder, 'from-node.txt'), 'node side\n');
    const r = await provider.exec(info.providerId!, ['sh', '-c', 'cat from-node.txt && echo vm side > from-vm.txt'], {
      workingDir: '/workspaces/vm1',
    });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'node side\n');
    assert.equal(readFileSync(join(nodeFolder, 'from-vm.txt'), 'utf8'), 'vm side\n');
  });

  it('many execs and checks share one held SSH connection to the VM', async () => {
    await Promise.all(Array.from({ length: 12 }, () => provider.exec(info.providerId!, ['true'])));
    const r = await provider.exec(info.providerId!, [
      'sh',
      '-c',
      'ss -Htn state established "( sport = :2222 )" | wc -l',
    ]);
    assert.equal(r.stdout.trim(), '1');
  });

  it('a restarted agent finds the running VM by its pid file and QMP, and controls it', async () => {
    const fresh = providerFor();
    try {
      const again = await managerFor(fresh).inspect('vm1');
      assert.equal(again.state, 'running');
      const r = await fresh.exec(info.providerId!, ['echo', 'still here']);
      assert.equal(r.stdout, 'still here\n');
    } finally {
      fresh.close();
    }
  });

  it('a killed QEMU process shows as error with the reason, and up brings the VM back', async () => {
    const files = provider.store.files(info.providerId!);
    const pid = livePid(files.pid, files.qmp);
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 50 && livePid(files.pid, files.qmp) !== undefined; i++)
      await new Promise((r) => setTimeout(r, 100));
    const broken = await manager.inspect('vm1');
    assert.equal(broken.state, 'error');
    assert.match(broken.error?.message ?? '', /QEMU process of the VM is gone/);
    info = await manager.create(spec('vm1'));
    assert.equal(info.state, 'running');
    assert.equal(ssh(info, 'cat /workspaces/vm1/from-vm.txt').trim(), 'vm side');
  });

  it('stop powers the guest off; rm leaves no process, overlay, seed or port', async () => {
    const files = provider.store.files(info.providerId!);
    const stopped = await manager.stop('vm1');
    assert.equal(stopped.state, 'stopped');
    assert.equal(livePid(files.pid, files.qmp), undefined);
    const ports = [info.ssh!.port];
    await manager.remove('vm1', false);
    assert.equal(existsSync(vmFolder(info)), false, 'the VM folder (overlay, seed, QMP socket) is gone');
    for (const port of ports) assert.equal(await nodePortProbe.isFree(port), true, `port ${port} is free`);
  });
});
