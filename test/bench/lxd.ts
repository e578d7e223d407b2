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
 * each LXD API call and operation wait, each state-file write — at load 11-14 on this 2-CPU machine,
 * session 7, 2026-12-05). The LXD calls of ours are the raw client's (create, start, a clean stop)
 * plus one GET each; the rest is what the raw side does not have. One `up` step by step:
 * - the CLI process to its main 0.32-0.58 s (Node.js and the 2.4 MB bundle; `node -e 0` 0.2 s at
 *   that load), to the coordinator's first step 0.2 s more, to the agent's 0.12 s more;
 * - LXD's create 1.5-2.3 s; the pushes of the SSH server's files 0.25-0.35 s in three waves (the
 *   first file call on a new instance starts LXD's forkfile, 0.15-0.4 s), the image's sshd/systemd
 *   check beside them (HEAD now: a GET read the 1.2 MB sshd binary, 0.27-0.53 s);
 * - LXD's first start 2.2-3.5 s (the raw `lxc launch` has the same first start, without the proxy
 *   device). LXD starts each `proxy` device in the start's post-hooks, one after the other, and each
 *   waits ≥1 s: it looks once for forkproxy's "Started" line, then sleeps a second before it looks
 *   again (lxd/device/proxy.go, Start). So every start of a workspace costs ≥1 s more than a raw
 *   start, plus 1 s per service port;
 * - the SSH server: systemd in the container reaches its first unit 0.8 s after it starts at that
 *   load (generators, unit loading), the unit is ordered that early, and the banner comes 1.2-1.4 s
 *   after LXD says Running — after the start operation ended at load 12, before it on a quiet
 *   machine. `up` waits for it; the raw side's `lxc exec` needs only the container's init;
 * - the login set-up (a git identity exec 0.1-0.16 s here) now runs inside that wait;
 * - the coordinator's host-key pin, ssh_config and sync 0.19-0.5 s;
 * - the first `ssh`: OpenSSH to its ProxyCommand 0.09 s, the ssh-proxy Node.js process to its main
 *   0.13-0.39 s, the tunnel, handshake and `true` 0.33 s: 0.65-0.87 s against the raw side's
 *   `lxc exec true` 0.12-0.38 s.
 * `stop` + `start`: two CLI processes (0.32-0.58 s each to their main), LXD's stop as the raw one's,
 * LXD's start the raw one's + ≥1 s (the proxy device), the SSH-ready wait 0.06-0.3 s after it.
 * Fixed earlier: the image check and the pushes run at once, the SSH-ready wait retries every 50 ms
 * at most, the sync goes to the agent daemon's sync socket (1.9 s → 0.15 s at load 12), the config
 * validators are compiled at build time (0.62 s → 26 ms). Fixed in session 7: the agent's record of
 * the made instance was fsynced between the create and the start, which flushed all LXD had just
 * unpacked to the same disk (0.1-0.74 s, median ~0.35 s; now written while the instance starts); the
 * login set-up waited for the SSH server (now beside it); the image check read sshd whole (now HEAD).
 * Figures (medians of 3, load beside each): session 6 quiet (load 0.7) up 2.50x (4.82 s vs 1.93 s),
 * stop+start 2.27x (3.01 s vs 1.32 s); session 7 before its changes (load 3.4-5.6) up 2.43x (5.56 s
 * vs 2.29 s), stop+start 2.14x (3.39 s vs 1.58 s); after (load 15.7-18.9) up 2.19x (10.68 s vs
 * 4.87 s), stop+start 2.07x (5.86 s vs 2.82 s); after (load 11.5-13.4) up 2.19x (7.68 s vs 3.51 s),
 * stop+start 1.86x (4.74 s vs 2.55 s). The ratios move with the load and LXD's variance
 * (its create 1.5-11.5 s, a first start 1.6-4.9 s) more than with any one fix.
 * What 1.3x would need (it allows 0.4 s over a quiet raw stop+start of 1.3 s): an SSH port that is
 * not a proxy device started at every start (that alone is ≥1 s; agent-held listeners as on a
 * cluster would make sessions depend on the agent), an SSH-ready that does not wait on the image's
 * systemd boot, and no Node.js start per CLI command and per `ssh` (0.1-0.2 s each quiet).
 * The -vs-proxied figures (reported, no target) put the raw client beside us with the one proxy
 * device the issue prescribes: `lxc init` + `config device add` + `start` + `exec true`, and its
 * stop+start. Session 8, quiet (load 0.7-1.5): up 4.48 s vs 1.62 s plain (2.78x) and 2.79 s with
 * the device (1.61x); stop+start 2.88 s vs 1.34 s plain (2.15x) and 2.54 s with the device (1.13x).
 * The device alone costs the raw client 1.2 s, so 1.3x of the plain raw figures cannot be reached
 * with it. Since session 8 SSH and every service port are one device (vendetta-ports): a project
 * with services no longer pays a second per port at each start.
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
      const rawsProxied: number[] = [];
      const stopStarts: number[] = [];
      const rawStopStarts: number[] = [];
      const rawProxiedStopStarts: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const name = `bench${i}`;
        let t0 = Date.now();
        must(await lxc(['launch', TEST_LXD_IMAGE, `raw${i}`]), 'lxc launch');
        must(await lxc(['exec', `raw${i}`, '--', 'true']), 'lxc exec');
        raws.push(Date.now() - t0);
        // The raw client with the one thing the issue prescribes that LXD itself makes slow: a
        // proxy device for SSH on the node's loopback (the daemon's own namespace: a fixed port).
        const proxied = `rawproxy${i}`;
        t0 = Date.now();
        must(await lxc(['init', TEST_LXD_IMAGE, proxied]), 'lxc init');
        const device = ['listen=tcp:127.0.0.1:' + (47022 + i), 'connect=tcp:127.0.0.1:22', 'bind=host'];
        must(await lxc(['config', 'device', 'add', proxied, 'ssh', 'proxy', ...device]), 'lxc config device add');
        must(await lxc(['start', proxied]), 'lxc start');
        must(await lxc(['exec', proxied, '--', 'true']), 'lxc exec');
        rawsProxied.push(Date.now() - t0);
        t0 = Date.now();
        must(await env.cli(['workspace', 'up', project(name)], { timeoutMs: 300_000 }), 'workspace up');
        must(await env.ssh(`${name}.local.vendetta`, ['true']), 'ssh');
        ups.push(Date.now() - t0);

        t0 = Date.now();
        must(await lxc(['stop', `raw${i}`]), 'lxc stop');
        must(await lxc(['start', `raw${i}`]), 'lxc start');
        rawStopStarts.push(Date.now() - t0);
        t0 = Date.now();
        must(await lxc(['stop', proxied]), 'lxc stop');
        must(await lxc(['start', proxied]), 'lxc start');
        rawProxiedStopStarts.push(Date.now() - t0);
        t0 = Date.now();
        must(await env.cli(['workspace', 'stop', name]), 'workspace stop');
        must(await env.cli(['workspace', 'start', name], { timeoutMs: 300_000 }), 'workspace start');
        stopStarts.push(Date.now() - t0);

        await lxc(['delete', '--force', `raw${i}`, proxied]);
        must(await env.cli(['workspace', 'rm', name, '--force'], { timeoutMs: 300_000 }), 'workspace rm');
      }
      const note = `medians of ${RUNS}, alternating; same LXD 5.0 (dir pool), same image (${TEST_LXD_IMAGE})`;
      const sameDevice = `${note}; the baseline has the raw client add one proxy device (LXD starts it for ≥1 s)`;
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
        result(
          'lxd-workspace-up-to-ssh-vs-proxied',
          median(ups) / 1000,
          's',
          'raw-lxc-init-proxy-device-start-exec-true',
          median(rawsProxied) / 1000,
          null,
          sameDevice,
        ),
        result(
          'lxd-workspace-stop-start-vs-proxied',
          median(stopStarts) / 1000,
          's',
          'raw-lxc-stop-then-start-with-proxy-device',
          median(rawProxiedStopStarts) / 1000,
          null,
          sameDevice,
        ),
      ];
    } finally {
      await h.cleanup();
      await lxd.stop();
    }
  },
};
