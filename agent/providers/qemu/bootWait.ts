/**
 * The wait for a booting VM: until its control SSH server lets the agent in, the serial console
 * streamed as progress as it is written, QEMU watched, the user's cancel and the time limit honoured.
 */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsoleFollower, consoleTail } from './console';
import type { GuestConnection } from './guestSsh';
import { bootFailed, cancelled } from './refusals';
import { endVm, livePid } from './vmProcess';

/** How often the console is shown and the SSH port looked at while the guest boots. */
const LOOK_EVERY_MS = 250;
/**
 * QEMU's user-mode network accepts a connection to a forwarded port at once, booted guest or not,
 * and holds it until the guest answers: a probe that waits longer than this is tried again.
 */
const BANNER_WAIT_MS = 3_000;

export interface BootWait {
  name: string;
  files: { pid: string; qmp: string; console: string };
  port: number;
  conn: GuestConnection;
  limitMs: number;
  progress: (m: string) => void;
  /** The wait ended without a VM: QEMU exited or the limit passed (`why`), or the user cancelled (none). */
  failed(why: string | undefined): void;
  signal?: AbortSignal;
}

export async function waitForBoot(w: BootWait): Promise<void> {
  const until = Date.now() + w.limitMs;
  const follower = new ConsoleFollower(w.files.console);
  const show = (): void => {
    for (const line of follower.next()) w.progress(`console: ${line.slice(0, 200)}`);
  };
  const shower = setInterval(show, LOOK_EVERY_MS);
  try {
    for (;;) {
      show();
      if (livePid(w.files.pid, w.files.qmp) === undefined) {
        const why = `QEMU exited while the VM was booting`;
        w.failed(why);
        throw bootFailed(w.name, why, consoleTail(w.files.console, 20));
      }
      // The login only once an SSH server speaks: ssh2's own wait for it is long and not cancellable.
      const ok =
        (await sshBanner(w.port, BANNER_WAIT_MS)) &&
        (await w.conn.ready().then(
          () => true,
          () => false,
        ));
      show();
      if (ok) return;
      if (w.signal?.aborted) {
        // A cancelled up leaves no half-booted VM running.
        await endVm(w.files.pid, w.files.qmp, 0);
        w.failed(undefined);
        throw cancelled(`The start of the VM of workspace ${w.name}`);
      }
      if (Date.now() >= until) {
        const tail = consoleTail(w.files.console, 20);
        await endVm(w.files.pid, w.files.qmp, 0);
        const why = `the guest did not answer on SSH within ${Math.round(w.limitMs / 1000)} s`;
        w.failed(why);
        throw bootFailed(w.name, why, tail);
      }
      await sleep(LOOK_EVERY_MS);
    }
  } finally {
    clearInterval(shower);
  }
}

/** Whether an SSH server greets a connection to 127.0.0.1:port within timeoutMs. */
export function sshBanner(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let seen = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (seen.length >= 4) done(seen.startsWith('SSH-'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}
