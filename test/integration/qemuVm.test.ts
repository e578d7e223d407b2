/**
 * QEMU workspaces end to end: the shared lifecycle suite (lifecycleSuite.ts) on its QEMU row
 * (lifecycleQemu.ts), through the built CLI and the real OpenSSH client, against a real QEMU
 * (TCG here: this machine has no usable KVM) and a Debian cloud-init guest built offline and
 * cached (test/infra/qemuGuest.ts). Two guest boots in all: `up`, and `up` after the VM's QEMU
 * process was killed. The cases that need no boot (a guest that never boots, image downloads,
 * bad configs) are in qemuWorkspaces.test.ts.
 */
import { QEMU_ROW } from './lifecycleQemu';
import { lifecycleSuite } from './lifecycleSuite';

lifecycleSuite(QEMU_ROW);
