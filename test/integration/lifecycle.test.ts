/**
 * The shared workspace lifecycle (lifecycleSuite.ts) on Docker and LXD. The QEMU row runs in
 * qemuVm.test.ts: its boots take minutes, so it starts among the first files of a parallel run.
 */
import { DOCKER_ROW, LXC_ROW } from './lifecycleProviders';
import { lifecycleSuite } from './lifecycleSuite';

for (const provider of [DOCKER_ROW, LXC_ROW]) lifecycleSuite(provider);
