/**
 * sync-100k-memory: the peak memory (VmHWM) of the coordinator and of the local agent while
 * `vendetta workspace up` sends a project of 100,000 small files, beside the same processes'
 * resident memory just before, idle (the same-run baseline: what the sync adds). Written against
 * the public CLI only, so it measures whatever the sync does inside.
 * - The coordinator and the agent daemon are long-lived: their high-water marks are reset
 *   (/proc/PID/clear_refs 5) after a warm-up and read after `up`.
 * - The agent's receiving end runs as its own short process (`agent.js sync-receive`): its VmHWM
 *   is sampled while it lives, beside a Node.js process that does nothing (the same binary's floor).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceUpResult } from '../../coordinator/protocol';
import { createWorkspaceEnv } from '../integration/workspaceHarness';
import { result, type Benchmark } from './harness';
import { copyWithoutServices, must, needsRootDockerSsh } from './workspaces';

const FILES = 100_000;
const PER_FOLDER = 1_000;

/** A /proc/PID/status field in KiB (VmHWM, VmRSS), or undefined once the process is gone. */
function statusKiB(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Resets the high-water mark to the current RSS (Linux ≥ 4.0); false where the kernel refuses. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** Samples the VmHWM of every live `sync-receive` process of this agent bundle until stopped; returns the largest seen. */
function watchReceivers(bundle: string): { stop(): number } {
  let peak = 0;
  const sample = () => {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      const argv = cmdline(Number(d)).split('\0');
      if (argv.includes('sync-receive') && argv.some((a) => a === bundle))
        peak = Math.max(peak, statusKiB(Number(d), 'VmHWM') ?? 0);
    }
  };
  const timer = setInterval(sample, 25);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

function makeProject(dir: string): void {
  for (let f = 0; f < FILES / PER_FOLDER; f++) {
    const folder = join(dir, 'data', `d${String(f).padStart(3, '0')}`);
    mkdirSync(folder, { recursive: true });
    for (let i = 0; i < PER_FOLDER; i++)
      writeFileSync(join(folder, `f${String(i).padStart(4, '0')}.txt`), `file ${f}/${i}\n`);
  }
}

const mib = (kib: number) => kib / 1024;

/** The peak RSS of a Node.js process (this node binary) that does nothing: the receiver's floor. */
function bareNodePeakKiB(): number {
  const r = spawnSync(
    process.execPath,
    ['-e', "process.stdout.write(/VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1])"],
    { encoding: 'utf8' },
  );
  const kib = Number(r.stdout);
  if (r.status !== 0 || !kib) throw new Error(`a bare node process did not report its VmHWM: ${r.stderr}`);
  return kib;
}

export const syncMemory: Benchmark = {
  name: 'sync-100k-memory',
  requires: needsRootDockerSsh,
  async run() {
    const env = await createWorkspaceEnv();
    try {
      const name = 'bench-100k';
      const dir = copyWithoutServices(env, name);
      makeProject(dir);
      // Warm-up: the coordinator and the local agent daemon are up and have loaded their code.
      must(await env.cli(['node', 'status', 'local']), 'node status');
      const coordinator = env.h.coordinatorPid();
      const agent = env.h.localAgentPid();
      if (!coordinator || !agent) throw new Error(`no coordinator (${coordinator}) or local agent (${agent}) pid`);
      const reset = resetPeak(coordinator) && resetPeak(agent);
      const idle = { coordinator: statusKiB(coordinator, 'VmRSS')!, agent: statusKiB(agent, 'VmRSS')! };
      const bundle =
        cmdline(agent)
          .split('\0')
          .find((a) => a.endsWith('.js')) ?? '';
      const receivers = watchReceivers(bundle);
      const up = must(
        await env.cli(['workspace', 'up', dir, '--name', name, '--json'], { timeoutMs: 900_000 }),
        'workspace up',
      );
      const receiverPeak = receivers.stop();
      const r = JSON.parse(up.stdout) as WorkspaceUpResult;
      if ((r.sync?.sent ?? 0) < FILES) throw new Error(`up sent ${r.sync?.sent} files, not the ${FILES} made`);
      const peak = { coordinator: statusKiB(coordinator, 'VmHWM'), agent: statusKiB(agent, 'VmHWM') };
      if (peak.coordinator === undefined || peak.agent === undefined)
        throw new Error('the coordinator or the agent daemon exited during the sync');
      process.stderr.write(
        `  sync-100k: up ${up.ms} ms; coordinator idle ${mib(idle.coordinator).toFixed(1)} MiB, peak ${mib(peak.coordinator).toFixed(1)} MiB; ` +
          `agent daemon idle ${mib(idle.agent).toFixed(1)} MiB, peak ${mib(peak.agent).toFixed(1)} MiB; sync-receive peak ${mib(receiverPeak).toFixed(1)} MiB` +
          `${reset ? '' : ' (peaks not reset: the kernel refused clear_refs, so they include the warm-up)'}\n`,
      );
      // Removing 100,000 files takes minutes on a busy machine: more than the CLI runner's default 2 min.
      must(await env.cli(['workspace', 'rm', name, '--force'], { timeoutMs: 900_000 }), 'workspace rm');
      const bareNode = bareNodePeakKiB();
      return [
        result(
          'sync-100k-files-coordinator-peak-rss',
          mib(peak.coordinator),
          'MiB',
          'coordinator-idle-rss',
          mib(idle.coordinator),
          2,
        ),
        result(
          'sync-100k-files-agent-daemon-peak-rss',
          mib(peak.agent),
          'MiB',
          'agent-daemon-idle-rss',
          mib(idle.agent),
          2,
        ),
        result(
          'sync-100k-files-agent-receiver-peak-rss',
          mib(receiverPeak),
          'MiB',
          'bare-node-process-peak-rss',
          mib(bareNode),
          2,
        ),
      ];
    } finally {
      await env.cleanup();
    }
  },
};
