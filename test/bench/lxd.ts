/**
 * LXD workspace benchmarks (issue 14), through the built CLI on the local node (a private LXD in a
 * network namespace of its own, test/infra/lxd.ts) and the real OpenSSH client, each beside the
 * raw `lxc` client on the same LXD and the same image in the same run, alternating:
 * - lxd-workspace-up: `workspace up` of a project without services, then a first `ssh <alias> true`
 *   through the generated config, beside `lxc launch IMAGE` + `lxc exec NAME -- true`. The workspace
 *   also gets its project folder synced, its disk device, its SSH server configured and a login.
 * - lxd-workspace-stop-start: `workspace stop` + `workspace start` (to SSH-ready), beside
 *   `lxc stop NAME && lxc start NAME`.
 * Where the difference lies (measured with timestamps on each step, 2026-12-05): the raw side returns
 * once LXD has started init, ours once the SSH server answers (the instance's boot up to it, ~0.7 s of
 * init time since the unit starts with init); the proxy device of the SSH port costs LXD ~1 s on every
 * start (a raw instance with one added starts as slowly); each CLI command is a Node.js process
 * (~0.5-1 s here before it reaches the coordinator); `up` also syncs the project.
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
