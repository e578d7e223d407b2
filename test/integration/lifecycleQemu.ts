/**
 * The QEMU row of the shared lifecycle suite: a VM per workspace (TCG here: minutes per boot
 * on a loaded 2-CPU machine), the local node in a network namespace of its own (QEMU's
 * user-mode network forwards to its 127.0.0.1), with the guest built offline and cached once per machine
 * (test/infra/qemuGuest.ts). The VMs are the folders under the local agent's `qemu/`; the
 * test sees and ends their processes by pid file and QMP socket, never by searching `ps`.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { livePid } from '../../agent/providers/qemu/vmProcess';
import { VmStore } from '../../agent/providers/qemu/vmStore';
import { ensureQemuGuest, type QemuGuest } from '../infra/qemuGuest';
import { run } from '../infra/sys';
import { createCliHome } from './coordinatorHarness';
import type { LifecycleProvider } from './lifecycleProviders';
import { commandsIn } from './workspaceHarness';

function pidOf(store: VmStore, id: string): number | undefined {
  const f = store.files(id);
  return livePid(f.pid, f.qmp);
}

/** Ends a VM's QEMU process and waits until it is gone. */
async function killVm(store: VmStore, id: string): Promise<void> {
  const pid = pidOf(store, id);
  if (pid === undefined) return;
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && pidOf(store, id) !== undefined; i++) await sleep(100);
}

const SERVICE_START_PERIOD = '10m';

/** The provider section for the cached test guest: 2 CPUs, 1 GiB, a 6 GiB disk, the accelerator `auto` picks. */
export function QEMU_CONFIG(guest: QemuGuest): string {
  return [
    'provider: qemu',
    'qemu:',
    `  image: ${guest.image}`,
    `  kernel: ${guest.kernel}`,
    `  initrd: ${guest.initrd}`,
    `  append: ${guest.append}`,
    '  cpus: 2',
    '  memory: 1g',
    '  disk: 6g',
    '  accel: auto',
    '',
  ].join('\n');
}

/** Ends every VM of a CLI home's local agent (what a failed run left running). */
export async function endHomeVms(home: string): Promise<void> {
  const store = new VmStore(join(home, 'local-agent', 'qemu'));
  for (const id of store.ids()) await killVm(store, id);
}

export const QEMU_ROW: LifecycleProvider = {
  name: 'qemu',
  // A TCG boot to healthy services is 1-3 min on this machine, more when the machine is loaded.
  bootMs: 900_000,
  scarceBoots: true,
  commands: ['qemu-system-x86_64', 'qemu-img', 'debootstrap', 'ssh', 'sftp'],
  upSays: [/QEMU uses (TCG, software emulation, about 10× slower than KVM|KVM)/, /console: .*(Linux version|systemd)/],
  // Node.js starts in minutes in a TCG guest on a loaded machine (4 min seen at load 20), where
  // examples/hello's checks give a container about 10 s: each check gets a start period. A check
  // of a VM runs a command in the guest (it has no address on the node), which takes seconds
  // there: each check gets 15 s instead of 1-2 s.
  adaptProject(text) {
    const adapted = text
      .replace(/start_period: 1s/g, `start_period: ${SERVICE_START_PERIOD}`)
      .replace(/retries: (\d+) }/g, `retries: $1, start_period: ${SERVICE_START_PERIOD} }`)
      .replace(/timeout: [12]s/g, 'timeout: 15s');
    if (
      adapted.split(`start_period: ${SERVICE_START_PERIOD}`).length !== 4 ||
      adapted.split('timeout: 15s').length !== 4
    )
      throw new Error(`examples/hello's health checks changed; adapt lifecycleQemu.ts:\n${adapted}`);
    return adapted;
  },
  async setup() {
    const guest = await ensureQemuGuest();
    // A network namespace of its own (loopback only): the VM's forwarded ports, the agent and the
    // checks that rm freed them see no other file's ports. QEMU's user-mode network needs no more.
    const netns = `vtq${process.pid}`;
    run(['ip', 'netns', 'del', netns], { allowFail: true });
    run(['ip', 'netns', 'add', netns]);
    run(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
    const nsenter = ['nsenter', `--net=/run/netns/${netns}`, '--'];
    const h = createCliHome();
    const store = new VmStore(join(h.home, 'local-agent', 'qemu'));
    const configYaml = QEMU_CONFIG(guest);
    const idOf = (workspace: string): string => {
      const id = store.ids().find((i) => store.read(i)?.name === workspace);
      if (!id) throw new Error(`no VM of ${workspace} under ${store.root}`);
      return id;
    };
    return {
      h,
      configYaml,
      nsenter,
      env: {},
      ...commandsIn(h, nsenter, {}),
      workspaces: async () =>
        store.ids().map((id) => ({ workspace: store.read(id)!.name, running: pidOf(store, id) !== undefined })),
      async engineRecord(workspace) {
        const pid = pidOf(store, idOf(workspace));
        if (pid === undefined) throw new Error(`no QEMU process of ${workspace}`);
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      },
      async deleteBehindBack(workspace) {
        const id = idOf(workspace);
        await killVm(store, id);
        rmSync(store.dir(id), { recursive: true, force: true });
      },
      enginePid: (workspace) => pidOf(store, idOf(workspace)),
      killEngineProcess: (workspace) => killVm(store, idOf(workspace)),
      async cleanup() {
        await endHomeVms(h.home);
        await h.cleanup();
        run(['ip', 'netns', 'del', netns], { allowFail: true });
      },
    };
  },
};
