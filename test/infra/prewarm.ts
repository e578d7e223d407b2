/**
 * What the slowest integration file waits on before its first case, made while the unit suite
 * runs (`npm test` starts this beside it, niced): the QEMU test guest and code-server. Both are
 * cached per machine and built under a lock, so a test that needs one meanwhile waits for this
 * build instead of starting its own. A failure here is left to the test that needs it to report.
 */
import { ensureCodeServer } from './codeServerInstall';
import { ensureQemuGuest } from './qemuGuest';

async function main(): Promise<void> {
  let t = Date.now();
  const guest = await ensureQemuGuest();
  console.log(`QEMU test guest: ${guest.built ? `built in ${Date.now() - t} ms` : 'cached'}`);
  t = Date.now();
  const cs = ensureCodeServer();
  console.log(`code-server: ${cs.installed ? `installed in ${Date.now() - t} ms` : 'cached'}`);
}

main().catch((err: Error) => {
  console.log(`prewarm failed (the tests that need it will say why): ${err.message}`);
});
