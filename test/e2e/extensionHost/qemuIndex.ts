/** The bundle of the QEMU workspace's in-host tests (qemu.host.ts), run through inHostMocha.ts. */
import { runInHost } from './inHostMocha';

export function run(): Promise<void> {
  return runInHost(async () => {
    await import('./qemu.host.js');
  });
}
