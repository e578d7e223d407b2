/**
 * LXD workspace benchmarks (issue 14), through the built CLI on the local node (a private LXD in a
 * network namespace of its own, test/infra/lxd.ts) and the real OpenSSH client, each beside the
 * raw `lxc` client on the same LXD and the same image in the same run, alternating:
 * - lxd-workspace-up: `workspace up` of a project without services, then a first `ssh <alias> true`
 *   through the generated config, beside `lxc launch IMAGE` + `lxc exec NAME -- true`. The workspace
 *   also gets its project folder synced, its disk device, its SSH server configured and a login.
 * - lxd-workspace-stop-start: `workspace stop` + `workspace start` (to SSH-ready), beside
 *   `lxc stop NAME && lxc start NAME`.
 * Where the difference lies (timestamps on every step — CLI start, coordinator and agent requests,
 * each LXD API call and operation wait — on a 2-CPU machine at load 10-13, 2026-12-05). There is no
 * single large wait: the LXD calls of ours are the raw client's (create, start, a clean stop) plus
 * one GET each; the rest is processes and readiness the raw side does not have:
 * - every CLI command is a new Node.js process: 0.5-0.65 s to its first line, up to 1.9 s under
 *   load (`node -e 0` alone takes 0.3-0.8 s here); stop + start pays it twice. `up` also loads and
 *   checks the config in the CLI before it asks the coordinator (0.55 s; the coordinator's part up to
 *   the agent is 0.15 s warm, 0.9 s on a coordinator's first `up`);
 * - the SSH port's `proxy` device: LXD starts the instance 0.5-1 s later with it;
 * - the SSH server answers 0.75-1.4 s after LXD says the instance started (init's boot up to the
 *   unit, which is ordered as early as init allows); `up`/`start` wait for it, the raw side does not;
 * - `up`'s sync: 0.8-1.1 s, nearly all of it the `sync-receive` Node.js process starting on the node;
 * - the first `ssh`: 0.95-1.9 s against 0.4-0.9 s for `lxc exec true` (the ssh-proxy Node.js process);
 * - LXD's own steps vary more than all of that between runs: its create 2.3-6.2 s, a first start
 *   1.6-4.9 s, a clean stop 1.9-3.6 s (the raw side's too).
 * Fixed in the agent: the image's sshd/systemd lookups no longer run before the pushes of the SSH
 * server's files but beside them (~0.15-0.2 s of `up`); the SSH-ready wait retries every 50 ms at
 * most (was 200 ms, ~75 ms on average of every up/start) and does not ask LXD about the instance
 * while it boots it.
 * Figures (medians of 3, ratio first): before, up 1.59x (17.4 s vs 11.0 s), stop+start 2.71x
 * (12.1 s vs 4.5 s) at load 9-18; after, up 1.73x (12.5 s vs 7.2 s) and 2.18x (8.5 s vs 3.9 s) at
 * load 11-15, up 1.81x (6.9 s vs 3.8 s) and 2.07x (3.8 s vs 1.8 s) at load 6-8, up 2.07x (5.2 s vs
 * 2.5 s) and 2.35x (3.0 s vs 1.3 s) at load 2-3.5. The ratios move with the load more than with these
 * fixes (a quieter machine shrinks the raw side most): the gap stays ~2.7-3 s for up (three
 * Node.js process starts, the SSH-ready wait, the sync) and ~1.7-2 s for stop+start (two CLI starts,
 * the proxy device, the SSH-ready wait), more than 0.3x of the raw side's 1.3-4 s. Reaching it
 * needs fewer Node.js starts per command (a CLI that starts faster, sync-receive and ssh-proxy
 * without a process of their own), not LXD calls.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLxd, TEST_LXD_IMAGE } from '../infra/lxd';
import { commandExists } from '../infra/sys';
import { createCliHome } from '../integration/coordinatorHarness';
import { commandsIn } from '../integration/workspaceHarness';
import { median, result, type Benchmark } from './harness';
import { must } from './workspaces';

const RUNS = 3;

export const lxdWorkspace: Benchmark = {
  name: 'lxd-workspace',
  requires: () => {
    if (process.getuid?.() !== 0) return 'needs root (a private LXD in a network namespace)';
    const missing = ['lxd', 'lxc', 'ssh', 'nsenter'].filter((c) => !commandExists(c));
    return missing.length ? `needs ${missing.join(', ')} (test/infra/setup.sh installs them)` : undefined;
  },
  async run() {
    const lxd = await startLxd();
    const h = createCliHome();
    try {
      const env = commandsIn(h, lxd.nsenter, { LXD_DIR: lxd.dir, LXD_CONF: lxd.env.LXD_CONF });
      const lxc = (args: string[]) =>
        env.run(['env', `LXD_DIR=${lxd.dir}`, `LXD_CONF=${lxd.env.LXD_CONF}`, 'lxc', ...args]);
      const project = (name: string) => {
        const dir = join(h.dir, 'projects', name);
        mkdirSync(join(dir, '.vendetta'), { recursive: true });
        writeFileSync(join(dir, 'README.md'), `# ${name}\n`);
        writeFileSync(
          join(dir, '.vendetta', 'config.yaml'),
          `name: ${name}\nprovider: lxc\nlxc:\n  image: ${TEST_LXD_IMAGE}\n`,
        );
        return dir;
      };
      // The coordinator and the local agent start once, outside the samples.
      must(await env.cli(['node', 'status']), 'node status');
      const ups: number[] = [];
      const raws: number[] = [];
      const stopStarts: number[] = [];
      const rawStopStarts: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const name = `bench${i}`;
        let t0 = Date.now();
        must(await lxc(['launch', TEST_LXD_IMAGE, `raw${i}`]), 'lxc launch');
        must(await lxc(['exec', `raw${i}`, '--', 'true']), 'lxc exec');
        raws.push(Date.now() - t0);
        t0 = Date.now();
        must(await env.cli(['workspace', 'up', project(name)], { timeoutMs: 300_000 }), 'workspace up');
        must(await env.ssh(`${name}.local.vendetta`, ['true']), 'ssh');
        ups.push(Date.now() - t0);

        t0 = Date.now();
        must(await lxc(['stop', `raw${i}`]), 'lxc stop');
        must(await lxc(['start', `raw${i}`]), 'lxc start');
        rawStopStarts.push(Date.now() - t0);
        t0 = Date.now();
        must(await env.cli(['workspace', 'stop', name]), 'workspace stop');
        must(await env.cli(['workspace', 'start', name], { timeoutMs: 300_000 }), 'workspace start');
        stopStarts.push(Date.now() - t0);

        await lxc(['delete', '--force', `raw${i}`]);
        must(await env.cli(['workspace', 'rm', name, '--force'], { timeoutMs: 300_000 }), 'workspace rm');
      }
      const note = `medians of ${RUNS}, alternating; same LXD 5.0 (dir pool), same image (${TEST_LXD_IMAGE})`;
      return [
        result(
          'lxd-workspace-up-to-ssh',
          median(ups) / 1000,
          's',
          'raw-lxc-launch-plus-exec-true',
          median(raws) / 1000,
          1.3,
          note,
        ),
        result(
          'lxd-workspace-stop-start',
          median(stopStarts) / 1000,
          's',
          'raw-lxc-stop-then-start',
          median(rawStopStarts) / 1000,
          1.3,
          note,
        ),
      ];
    } finally {
      await h.cleanup();
      await lxd.stop();
    }
  },
};
