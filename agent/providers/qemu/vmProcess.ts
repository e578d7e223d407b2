/**
 * A VM's QEMU process, found from its pid file (QEMU writes it; `-daemonize` puts QEMU in its own
 * session, so it outlives the agent) and confirmed as ours by its own command line naming this
 * VM's QMP socket — the pid alone could have been reused. Never a search through `ps`.
 * Status comes from QMP; a stop asks the guest (ACPI power button), waits, then quits QEMU, then
 * kills the process.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { readProcessUsage, type VmNodeUsage } from '../../workspaces/hostUsage';
import { parseQueryStatus, qmpCalls, qmpOnce, type QmpStatus } from './qmp';
import { stopIfCancelled } from './refusals';

/** The pid in QEMU's pid file, if that process is alive and is the QEMU of this VM. */
export function livePid(pidFile: string, qmpSocket: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) [ZX] /.test(stat)) return undefined;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((a) => a.includes(qmpSocket)) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** What the VM's QEMU process costs the node so far, and whether it emulates the CPU (`-accel tcg`). */
export async function vmNodeUsage(pidFile: string, qmpSocket: string): Promise<VmNodeUsage | undefined> {
  const pid = livePid(pidFile, qmpSocket);
  const usage = pid === undefined ? undefined : await readProcessUsage(pid);
  if (!usage) return undefined;
  const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  return { ...usage, emulated: argv.includes('\0-accel\0tcg\0') };
}

export async function qmpStatus(qmpSocket: string): Promise<QmpStatus> {
  return parseQueryStatus(await qmpOnce(qmpSocket, qmpCalls.queryStatus()));
}

async function gone(pidFile: string, qmpSocket: string, ms: number, signal?: AbortSignal): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (livePid(pidFile, qmpSocket) === undefined) return true;
    if (Date.now() >= until) return false;
    stopIfCancelled(signal, 'The shutdown of the VM (its guest was asked to power off)');
    await sleep(200);
  }
}

/**
 * Ends the VM: the power button and `graceMs` for the guest to shut down (0: skip it), then
 * QMP quit, then SIGKILL. Resolves once the process is gone; says how it ended. An aborted
 * `signal` ends the wait of the grace (the guest goes on powering off); quit and kill are not cut short.
 */
export async function endVm(
  pidFile: string,
  qmpSocket: string,
  graceMs: number,
  signal?: AbortSignal,
): Promise<'powerdown' | 'quit' | 'kill' | 'not-running'> {
  if (livePid(pidFile, qmpSocket) === undefined) return 'not-running';
  if (graceMs > 0) {
    const asked = await qmpOnce(qmpSocket, qmpCalls.powerdown()).then(
      () => true,
      () => false,
    );
    if (asked && (await gone(pidFile, qmpSocket, graceMs, signal))) return 'powerdown';
  }
  // QEMU may close the socket before its reply to quit arrives: that is the quit working.
  await qmpOnce(qmpSocket, qmpCalls.quit()).catch(() => undefined);
  if (await gone(pidFile, qmpSocket, 5_000)) return 'quit';
  const pid = livePid(pidFile, qmpSocket);
  if (pid !== undefined) process.kill(pid, 'SIGKILL');
  await gone(pidFile, qmpSocket, 5_000);
  return 'kill';
}

/**
 * Runs `qemu-system-… -daemonize …`: the first process exits once the VM is set up (0), or with
 * an error on stderr (a taken hostfwd port, a bad image) — kept in `stderrFile` too.
 */
export function launch(
  binary: string,
  argv: string[],
  stderrFile: string,
): Promise<{ code: number | null; stderr: string }> {
  rmSync(stderrFile, { force: true });
  const fd = openSync(stderrFile, 'w', 0o600);
  return new Promise((resolve, reject) => {
    const child = spawn(binary, argv, { stdio: ['ignore', 'ignore', fd] });
    child.on('error', (err) => {
      closeSync(fd);
      reject(err);
    });
    child.on('close', (code) => {
      closeSync(fd);
      let stderr = '';
      try {
        stderr = readFileSync(stderrFile, 'utf8');
      } catch {
        // nothing written
      }
      resolve({ code, stderr });
    });
  });
}
