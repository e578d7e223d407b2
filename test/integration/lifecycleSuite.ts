/**
 * One workspace lifecycle, run once per provider (lifecycleProviders.ts): the built CLI on the
 * local node, the engine in a network namespace of its own, the real OpenSSH client. The same
 * project (examples/hello: three services behind health checks) with only its provider section
 * changed must behave the same on every provider. Where a boot costs minutes (a VM under TCG),
 * the row boots twice in all: its restart cases are in lifecycleVm.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PortInfo, WorkspaceUpResult } from '../../coordinator/protocol';
import { pidAlive, requireCommands, requireRoot } from '../infra/sys';
import { waitUntil } from './coordinatorHarness';
import { DOTFILES_RAN, dotfilesRepo } from './dotfilesRepo';
import type { LifecycleProvider, ProviderEnv } from './lifecycleProviders';
import { assertHelloHealthy, helloFor, LifecycleRun, parse, README } from './lifecycleRun';
import { addSecrets, idleCase, killAgent, rebootCase, secretsCase } from './lifecycleDaily';
import { vmRestartCases, vmRunningCases, vmStopCase } from './lifecycleVm';
import { vmEditorCase } from './lifecycleEditor';

export function lifecycleSuite(provider: LifecycleProvider): void {
  describe(`the workspace lifecycle on ${provider.name}: up, ssh, exec, services, forward, logs, ports found, stop/start, faults, rm`, function () {
    const t = new LifecycleRun(provider);
    let secret = '';

    before(async function () {
      requireRoot(this, `the ${provider.name} lifecycle suite`);
      if (provider.commands) requireCommands(this, `the ${provider.name} lifecycle suite`, provider.commands);
      this.timeout(1_800_000);
      t.env = await provider.setup();
      t.project = helloFor(t.env.h.dir, t.env.configYaml, provider.adaptProject?.bind(provider));
      secret = addSecrets(t.project);
    });

    after(async function () {
      this.timeout(180_000);
      for (const c of t.live) await c.stop('SIGKILL').catch(() => undefined);
      if (!t.env) return;
      await t.env.cli(['workspace', 'rm', 'hello', '--force']).catch(() => undefined);
      await t.env.cleanup();
      if (Object.keys(t.numbers).length) console.log(`    measured on ${provider.name}: ${JSON.stringify(t.numbers)}`);
    });

    it('up starts db, api, web in order behind their health checks; ssh through the generated config reads a project file', async function () {
      this.timeout(provider.bootMs + 20_000);
      const { env } = t;
      // With dotfiles (a local repository the node clones): installed as the login user.
      const dotfiles = ['--dotfiles', dotfilesRepo(env.h.dir)];
      const up = await env.cli(['workspace', 'up', t.project, '--json', ...dotfiles], { timeoutMs: provider.bootMs });
      const r = parse<WorkspaceUpResult>(up, 'workspace up');
      t.numbers.upToHealthyMs = up.ms;
      assert.deepEqual(
        [r.name, r.provider, r.state, r.sshHost],
        ['hello', provider.name, 'running', 'hello.local.vendetta'],
      );
      assertHelloHealthy(r.services);
      const at = (n: string, k: 'healthyAt' | 'startedAt') => Date.parse(r.services!.find((s) => s.name === n)![k]!);
      assert.ok(
        at('api', 'startedAt') >= at('db', 'healthyAt') && at('web', 'startedAt') >= at('api', 'healthyAt'),
        'each starts after its dependency is healthy',
      );
      const cat = await env.ssh('hello.local.vendetta', [
        'cat',
        '/workspaces/hello/README.md',
        `/root/${DOTFILES_RAN}`,
      ]);
      assert.equal(cat.code, 0, cat.stderr);
      assert.equal(
        cat.stdout,
        `${README}/root/dotfiles root\n`,
        'the project file, then the dotfiles install script ran',
      );
      // One word: OpenSSH joins the words of a command with spaces for the remote shell.
      const made = await env.ssh('hello.local.vendetta', ['echo from-inside > /workspaces/hello/inside.txt']);
      assert.equal(made.code, 0, made.stderr);
      assert.equal(
        readFileSync(join(env.h.home, 'local-agent', 'workspaces', 'hello', 'src', 'inside.txt'), 'utf8'),
        'from-inside\n',
        'root inside writes the project folder on the node',
      );
      assert.deepEqual(await env.workspaces(), [{ workspace: 'hello', running: true }]);
      await t.rememberPorts();
    });

    it('services get the discovery env of every service', async function () {
      const s = await t.status();
      const apiPid = s.services!.find((x) => x.name === 'api')!.pid!;
      const environ = await t.execSh(`tr '\\0' '\\n' < /proc/${apiPid}/environ | grep ^VENDETTA_SERVICE_ | sort`);
      assert.equal(environ.code, 0, environ.stderr);
      assert.match(environ.stdout, /^VENDETTA_SERVICE_DB_PORT=7070$/m);
      assert.match(environ.stdout, /^VENDETTA_SERVICE_WEB_URL=http:\/\/\S+:8080$/m);
    });

    secretsCase(t, () => secret);

    it('exec passes stdio, argv word for word and the exit code', async function () {
      const { env } = t;
      const ok = await t.execSh('echo out; echo err >&2; pwd');
      assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, 'out\n/workspaces/hello\n', 'err\n']);
      assert.equal((await t.execSh('exit 42')).code, 42);
      assert.equal(
        (await env.cli(['workspace', 'exec', 'hello', '--', 'printf', '%s|', '$HOME', 'a b', ';'])).stdout,
        '$HOME|a b|;|',
      );
      assert.equal(
        (
          await env.cli(['workspace', 'exec', 'hello', '--', 'wc', '-c'], { input: Buffer.alloc(300_000, 1) })
        ).stdout.trim(),
        '300000',
      );
      assert.equal((await env.cli(['workspace', 'ssh', 'hello', '--', 'sh', '-c', 'exit 7'])).code, 7);
    });

    if (provider.scarceBoots) vmRunningCases(t);
    if (provider.name === 'qemu') vmEditorCase(t);

    it('forward answers HTTP 200 on this side; logs -f shows a new line of a service', async function () {
      this.timeout(120_000 * t.slow);
      const fwd = t.liveCli(['workspace', 'forward', 'hello', '8080']);
      const { match } = await fwd.waitFor(
        /^Forwarding http:\/\/127\.0\.0\.1:(\d+) → hello:8080 \(node local\)$/m,
        30_000,
      );
      const page = await t.get(`http://127.0.0.1:${match[1]}/`);
      assert.equal(page.status, 200, page.body);
      assert.equal(await fwd.stop('SIGINT'), 0, `forward: ${fwd.stderr()} ${fwd.stdout()}`);

      const follow = t.liveCli(['workspace', 'logs', 'hello', '-f', '--tail', '0']);
      await new Promise((r) => setTimeout(r, 1500)); // the follow is set up
      // A restarted api says it listens again: a new line, from a new process.
      const t0 = Date.now();
      const restart = await t.env.cli(['workspace', 'restart', 'hello', 'api']);
      assert.equal(restart.code, 0, restart.stderr);
      const seen = await follow.waitFor(/^\d\d:\d\d:\d\d\.\d{3} api +\| api listening on /m, 30_000 * t.slow);
      t.numbers.logsFollowRestartLineMs = seen.at - t0;
      assert.equal(await follow.stop('SIGINT'), 0, follow.stderr());
    });

    it('a port opened by hand inside is detected, listed with its portsAttributes label, forwarded and answers; closed, it leaves the list', async function () {
      const { slow } = t;
      this.timeout(120_000 * slow);
      const ports = async () => parse<PortInfo[]>(await t.env.cli(['workspace', 'ports', 'hello', '--json']), 'ports');
      const server = "require('http').createServer((q, s) => s.end('by hand')).listen(8765)";
      const started = Date.now();
      const run = await t.execSh(`setsid node -e "${server}" </dev/null >/dev/null 2>&1 & echo $! > /tmp/by-hand.pid`);
      assert.equal(run.code, 0, run.stderr);
      let row: PortInfo | undefined;
      await waitUntil(
        async () => (row = (await ports()).find((p) => p.port === 8765)) !== undefined,
        20_000 * slow,
        'port 8765 listed',
      );
      t.numbers.detectedAfterMs = Date.now() - started;
      assert.deepEqual(
        [row!.source, row!.label, row!.onAutoForward, row!.listening, row!.loopbackOnly, row!.localPort],
        ['detected', 'Scratch server', 'notify', true, undefined, undefined],
      );
      const table = await t.env.cli(['workspace', 'ports', 'hello']);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /^8765 +detected +- +Scratch server +listening +- +-$/m);

      const fwd = t.liveCli(['workspace', 'forward', 'hello', '8765']);
      const { match } = await fwd.waitFor(
        /^Forwarding http:\/\/127\.0\.0\.1:(\d+) → hello:8765 \(node local\)$/m,
        30_000,
      );
      const answer = await t.get(`http://127.0.0.1:${match[1]}/`);
      assert.deepEqual([answer.status, answer.body], [200, 'by hand']);
      assert.equal((await ports()).find((p) => p.port === 8765)?.localPort, Number(match[1]));
      assert.equal(await fwd.stop('SIGINT'), 0, fwd.stderr());

      const kill = await t.execSh('kill $(cat /tmp/by-hand.pid)');
      assert.equal(kill.code, 0, kill.stderr);
      await waitUntil(
        async () => !(await ports()).some((p) => p.port === 8765),
        20_000 * slow,
        'port 8765 gone from the list',
      );
    });

    if (provider.scarceBoots) vmRestartCases(t);
    else
      it('stop and start keep what was written inside; the services come back healthy', async function () {
        this.timeout(provider.bootMs + 60_000);
        const { env } = t;
        assert.equal((await t.execSh('echo kept > /root/note')).code, 0);
        const stop = await env.cli(['workspace', 'stop', 'hello']);
        assert.equal(stop.code, 0, stop.stderr);
        t.numbers.stopMs = stop.ms;
        assert.equal((await t.listed())?.state, 'stopped');
        assert.deepEqual(await env.workspaces(), [{ workspace: 'hello', running: false }]);
        const start = await env.cli(['workspace', 'start', 'hello'], { timeoutMs: provider.bootMs });
        assert.equal(start.code, 0, start.stderr);
        t.numbers.startMs = start.ms;
        const kept = await env.ssh('hello.local.vendetta', ['cat', '/root/note', `/root/${DOTFILES_RAN}`]);
        assert.equal(kept.stdout, 'kept\n/root/dotfiles root\n', 'the dotfiles ran once, at create, not at start');
        const s = await t.status();
        assert.deepEqual(
          s.services?.map((x) => x.state),
          ['healthy', 'healthy', 'healthy'],
        );
      });

    // Not on a VM: each is a boot more under TCG, and emulation inflates the guest's CPU time so
    // much that a VM whose services are health-checked never looks idle there.
    if (!provider.scarceBoots) {
      idleCase(t);
      rebootCase(t);
    }

    it('an agent killed while the workspace runs: the next agent finds it and controls it', async function () {
      this.timeout(120_000);
      const victim = killAgent(t);
      const cat = await t.env.ssh('hello.local.vendetta', ['cat', '/root/note']);
      assert.equal(cat.stdout, 'kept\n', cat.stderr);
      const ran = await t.env.cli(['workspace', 'exec', 'hello', '--', 'true']);
      assert.equal(ran.code, 0, ran.stderr);
      // ssh and exec go through the workspace's own SSH server (LXD's proxy reaches it without the
      // agent); the status is the node agent's answer, so a new daemon serves it.
      assert.equal((await t.status()).state, 'running');
      const now = t.agentPid();
      assert.ok(
        now !== victim && now !== undefined && pidAlive(now),
        `a new agent daemon serves the node (pid file: ${now}, killed: ${victim})`,
      );
    });

    // A VM row proves its re-make on a boot it needs anyway (lifecycleVm.ts); the re-make itself is the coordinator's.
    if (!provider.scarceBoots)
      it("a workspace deleted behind vendetta's back shows error; up makes it again from the same folder", async function () {
        this.timeout(provider.bootMs + 20_000);
        const { env } = t;
        await env.deleteBehindBack('hello');
        assert.equal((await t.listed())?.state, 'missing');
        const ssh = await env.ssh('hello.local.vendetta', ['true']);
        assert.equal(ssh.code, 255);
        assert.match(ssh.stderr, /^error: .*hello/m);
        const dotfiles = ['--dotfiles', dotfilesRepo(env.h.dir)];
        const up = await env.cli(['workspace', 'up', t.project, '--json', ...dotfiles], { timeoutMs: provider.bootMs });
        const r = parse<WorkspaceUpResult>(up, 'up after the delete');
        assert.equal(r.state, 'running');
        assert.equal(
          (await env.ssh('hello.local.vendetta', ['cat', '/workspaces/hello/inside.txt', `/root/${DOTFILES_RAN}`]))
            .stdout,
          'from-inside\n/root/dotfiles root\n',
          'the project folder was kept; the new workspace got the dotfiles, once',
        );
        await t.rememberPorts();
      });

    if (provider.name === 'lxc') {
      it('the engine stopped: a clear error and nothing lost; once it is back everything answers', async function () {
        this.timeout(180_000);
        const { env } = t;
        const restart = (env as ProviderEnv & Required<Pick<ProviderEnv, 'engineRestart'>>).engineRestart;
        assert.equal((await t.execSh('echo survived > /root/engine-note')).code, 0);
        await restart.stop();
        try {
          assert.equal((await t.listed())?.state, 'error');
          const ssh = await env.ssh('hello.local.vendetta', ['true']);
          assert.equal(ssh.code, 255);
          assert.match(
            ssh.stderr,
            /^error: The workspace hello on local is error: LXD could not look up the instance vendetta-hello: no LXD\/Incus daemon answers on \S+ \(connection refused: it is not running\)/m,
          );
          assert.match(ssh.stderr, /and start it/, 'the hint says to start LXD');
        } finally {
          await restart.start();
        }
        const ran = await env.cli(['workspace', 'exec', 'hello', '--', 'cat', '/root/engine-note']);
        assert.equal(ran.stdout, 'survived\n', ran.stderr);
        assert.equal((await env.ssh('hello.local.vendetta', ['cat', '/workspaces/hello/README.md'])).stdout, README);
      });
    }

    if (provider.name === 'lxc') {
      it('stop forces an instance that does not shut down within its grace (boot.host_shutdown_timeout); start brings it back', async function () {
        this.timeout(120_000);
        const { env } = t;
        // A unit that hangs on stop: its shell ignores SIGTERM and systemd waits for it without end.
        const hang = await t.execSh(
          `echo forced > /root/force-note && systemd-run --unit=hangs-on-stop -p TimeoutStopSec=infinity sh -c "trap '' TERM; while :; do sleep 1; done"`,
        );
        assert.equal(hang.code, 0, hang.stderr);
        assert.equal(
          (await env.run(['lxc', 'config', 'set', 'vendetta-hello', 'boot.host_shutdown_timeout', '2'])).code,
          0,
        );
        const clean = await env.run(['lxc', 'stop', 'vendetta-hello', '--timeout', '1']);
        assert.notEqual(clean.code, 0, 'a clean shutdown alone does not end it');
        assert.deepEqual(await env.workspaces(), [{ workspace: 'hello', running: true }]);

        const stop = await env.cli(['workspace', 'stop', 'hello']);
        assert.equal(stop.code, 0, stop.stderr);
        t.numbers.forcedStopMs = stop.ms;
        // It waited its 2 s grace, not the 10 s default, then forced it.
        assert.ok(stop.ms >= 2000 && stop.ms < 9500, `stop took ${stop.ms} ms`);
        assert.deepEqual(await env.workspaces(), [{ workspace: 'hello', running: false }]);
        assert.equal((await t.listed())?.state, 'stopped');
        const start = await env.cli(['workspace', 'start', 'hello'], { timeoutMs: 200_000 });
        assert.equal(start.code, 0, start.stderr);
        assert.equal((await env.ssh('hello.local.vendetta', ['cat', '/root/force-note'])).stdout, 'forced\n');
      });
    }

    if (provider.scarceBoots) vmStopCase(t);

    it('rm leaves nothing: no container, instance or VM, no folder, no ssh_config block, no known_hosts line, no port', async function () {
      this.timeout(120_000);
      const { env } = t;
      const ports = t.nodePorts;
      assert.ok(ports.length > 0, 'the ports were noted while the workspace ran');
      const rm = await env.cli(['workspace', 'rm', 'hello', '--force', '--json']);
      assert.deepEqual(parse(rm, 'rm'), { name: 'hello', node: 'local' });
      assert.deepEqual(await env.workspaces(), []);
      assert.equal(existsSync(join(env.h.home, 'local-agent', 'workspaces', 'hello')), false);
      assert.doesNotMatch(readFileSync(join(env.h.home, 'ssh_config'), 'utf8'), /hello\.local/);
      assert.doesNotMatch(readFileSync(join(env.h.home, 'known_hosts'), 'utf8'), /hello\.local/);
      for (const port of ports) {
        const probe = `require('net').connect(${port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))`;
        assert.equal((await env.run([process.execPath, '-e', probe])).code, 1, `nothing listens on node port ${port}`);
      }
      const gone = await env.ssh('hello.local.vendetta', ['true']);
      assert.notEqual(gone.code, 0);
    });
  });
}
