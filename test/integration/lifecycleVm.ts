/**
 * The lifecycle cases of a provider whose boots are scarce (a VM under TCG boots in minutes): two
 * boots in all. The first is the suite's `up`; the second is `up` after the VM's QEMU process was
 * killed, which also proves what `stop`/`start` prove elsewhere (what was written inside is kept,
 * the services come back healthy: `up` and `start` share the agent's bring-up and the provider's
 * start). The stop is proven last, before `rm`, with no boot after it: by the idle watch.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkspaceStatus } from '../../coordinator/protocol';
import { pidAlive } from '../infra/sys';
import { idleStops } from './lifecycleDaily';
import { assertHelloHealthy, HELLO, README, type LifecycleRun } from './lifecycleRun';

/** What a running VM proves beyond the shared cases: Remote-SSH's needs, its own kernel, one held connection. */
export function vmRunningCases(t: LifecycleRun): void {
  it('the generated ssh_config serves what Remote-SSH uses: OpenSSH runs a command, SFTP moves files both ways, -L reaches a service port', async function () {
    this.timeout(120_000);
    const { env } = t;
    const config = join(env.h.home, 'ssh_config');
    const sent = join(env.h.dir, 'sftp-sent.txt');
    const got = join(env.h.dir, 'sftp-got.md');
    const batch = join(env.h.dir, 'sftp.batch');
    writeFileSync(sent, 'over sftp\n');
    writeFileSync(batch, `put ${sent} /workspaces/hello/sftp-sent.txt\nget /workspaces/hello/README.md ${got}\n`);
    const sftp = await env.run(['sftp', '-F', config, '-o', 'BatchMode=yes', '-b', batch, 'hello.local.vendetta']);
    assert.equal(sftp.code, 0, sftp.stderr);
    assert.equal(readFileSync(got, 'utf8'), README);
    assert.equal(
      (await env.ssh('hello.local.vendetta', ['cat /workspaces/hello/sftp-sent.txt'])).stdout,
      'over sftp\n',
    );

    const free = await env.run([
      process.execPath,
      '-e',
      "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close();})",
    ]);
    const port = Number(free.stdout);
    assert.ok(port > 0, free.stderr);
    const tunnel = t.liveCommand([
      'ssh',
      '-F',
      config,
      '-o',
      'BatchMode=yes',
      '-o',
      'ExitOnForwardFailure=yes',
      '-N',
      '-L',
      `127.0.0.1:${port}:localhost:8080`,
      'hello.local.vendetta',
    ]);
    let page = { status: -1, body: '' };
    for (let i = 0; i < 60 && page.status !== 200; i++) {
      if (tunnel.child.exitCode !== null) break;
      await sleep(500);
      page = await t.get(`http://127.0.0.1:${port}/`);
    }
    assert.equal(page.status, 200, `${page.body} ${tunnel.stderr()}`);
    assert.equal(page.body, readFileSync(join(HELLO, 'services', 'index.html'), 'utf8'));
    await tunnel.stop('SIGTERM');
  });

  it('the workspace is a VM with its own kernel and init, the configured CPUs, memory and disk; its execs share one held SSH connection', async function () {
    const { env } = t;
    const inside = await t.execSh(
      "cat /proc/1/comm; uname -r; nproc; awk '/MemTotal/ {print $2}' /proc/meminfo; cat /sys/block/vda/size",
    );
    assert.equal(inside.code, 0, inside.stderr);
    const [init, kernel, cpus, memKiB, diskSectors] = inside.stdout.trim().split('\n');
    assert.equal(init, 'systemd');
    assert.notEqual(kernel, release(), "the guest runs its own kernel, not the node's");
    // qemu.cpus: 2, memory: 1g, disk: 6g as configured (the kernel keeps some memory for itself).
    assert.equal(cpus, '2');
    assert.ok(Number(memKiB) > 900_000 && Number(memKiB) <= 1024 * 1024, `MemTotal ${memKiB} kB`);
    assert.equal(Number(diskSectors) * 512, 6 * 1024 ** 3, 'the overlay grew to qemu.disk');
    await Promise.all(Array.from({ length: 6 }, () => env.cli(['workspace', 'exec', 'hello', '--', 'true'])));
    const held = await t.execSh('ss -Htn state established "( sport = :2222 )" | wc -l');
    assert.equal(held.stdout.trim(), '1', 'one control connection for execs and health checks');
  });
}

/** The second boot: the VM's process killed shows `error` with the reason, and `up` brings it back whole. */
export function vmRestartCases(t: LifecycleRun): void {
  it('the QEMU process killed: error with the reason; up boots the VM again with what was written inside, the services healthy', async function () {
    this.timeout(t.provider.bootMs + 60_000);
    const { env } = t;
    const wrote = await t.execSh('echo kept > /root/note && sync');
    assert.equal(wrote.code, 0, wrote.stderr);
    await env.killEngineProcess!('hello');

    assert.equal((await t.listed())?.state, 'error');
    const status = await env.cli(['workspace', 'status', 'hello', '--json']);
    assert.equal(status.code, 1, `status of a workspace in error exits 1: ${status.stderr}`);
    const s = JSON.parse(status.stdout) as WorkspaceStatus;
    assert.equal(s.state, 'error');
    assert.match(JSON.stringify(s), /The QEMU process of the VM is gone \(killed or crashed\)/);
    const ssh = await env.ssh('hello.local.vendetta', ['true']);
    assert.equal(ssh.code, 255);
    assert.match(ssh.stderr, /^error: .*hello.*error/m);

    // Without --json, as a person runs it: its progress is what it tells the user while the VM boots.
    const up = await env.cli(['workspace', 'up', t.project], { timeoutMs: t.provider.bootMs });
    assert.equal(up.code, 0, up.stderr);
    t.numbers.upAfterKillMs = up.ms;
    for (const said of t.provider.upSays ?? []) assert.match(up.stderr, said, 'what up tells the user');
    const r = await t.status();
    assert.equal(r.state, 'running');
    assertHelloHealthy(r.services);
    assert.equal((await env.ssh('hello.local.vendetta', ['cat', '/root/note'])).stdout, 'kept\n');
    assert.equal(
      (await env.ssh('hello.local.vendetta', ['cat', '/workspaces/hello/inside.txt'])).stdout,
      'from-inside\n',
      'the project folder is shared again',
    );
    await t.rememberPorts();
  });
}

/**
 * Stopped with no boot after it, by the idle watch (the same provider stop as `workspace stop`):
 * an open session holds the VM past its `idleTimeout`, then the node powers it off as idle. Under
 * TCG the agent's own health checks and probes cost the guest much CPU; they must not count.
 */
export function vmStopCase(t: LifecycleRun): void {
  it('idle, the node powers the VM off (an open ssh session held it): stopped (idle) in the list and on the node, its QEMU process gone', async function () {
    this.timeout(360_000 * t.slow);
    const { env } = t;
    const pid = env.enginePid!('hello');
    assert.ok(pid !== undefined && pidAlive(pid), 'the VM runs');
    await idleStops(t);
    assert.equal(pidAlive(pid), false, `QEMU (pid ${pid}) ended`);
  });
}
