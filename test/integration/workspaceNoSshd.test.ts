/**
 * Images without an SSH server, through the built CLI on the local node (a private dockerd in its
 * own network namespace): the agent brings the node's own OpenSSH server, and the real OpenSSH
 * client reaches it through the generated ssh_config for a command, a pty, SFTP and a `-L`
 * forward to a port inside. Their services (busybox httpd) become healthy with `http` and `tcp`
 * checks made from the node: the images have no curl, wget or node. Two images, built offline:
 * Debian minbase with busybox and no openssh-server, and a static busybox alone (FROM scratch).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkspaceUpResult } from '../../coordinator/protocol';
import { BUSYBOX_IMAGE, ensureBusyboxImage, ensureNoSshdImage, NOSSHD_IMAGE } from '../infra/image';
import { httpGetScript, startLive, type LiveCommand } from './servicesHarness';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';

function parse<T>(r: { code: number; stdout: string; stderr: string }, what: string): T {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A project whose two services are busybox httpd, one checked over http, one over tcp. */
function project(root: string, name: string, image: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, '.vendetta'), { recursive: true });
  mkdirSync(join(dir, 'www'), { recursive: true });
  writeFileSync(join(dir, 'www', 'index.html'), `<p>served by busybox in ${name}</p>\n`);
  writeFileSync(
    join(dir, '.vendetta', 'config.yaml'),
    `name: ${name}
provider: docker
docker: { image: "${image}" }
services:
  web:
    command: [busybox, httpd, -f, -p, "8080", -h, www]
    port: 8080
    healthcheck: { http: "http://localhost:8080/index.html", interval: 500ms, timeout: 2s, retries: 20 }
  other:
    command: [busybox, httpd, -f, -p, "9090", -h, www]
    port: 9090
    depends_on: [web]
    healthcheck: { tcp: 9090, interval: 500ms, timeout: 2s, retries: 20 }
`,
  );
  return dir;
}

describe("images without an SSH server: the agent brings the node's own, and checks services from the node (built CLI, real OpenSSH client)", function () {
  let env: WorkspaceEnv;
  let root: string;
  const live: LiveCommand[] = [];
  const numbers: Record<string, number> = {};

  before(async function () {
    if (process.getuid?.() !== 0 && process.env.CI !== 'true') {
      console.log('    (skipped: the no-sshd image suite needs root)');
      this.skip(); // not root, off CI
    }
    this.timeout(600_000);
    env = await createWorkspaceEnv();
    await ensureBusyboxImage(env.dockerd.socket);
    const slim = await ensureNoSshdImage(env.dockerd.socket);
    if (slim.built) numbers.nosshdImageBuildMs = slim.buildMs;
    root = mkdtempSync(join(tmpdir(), 'vendetta-nosshd-'));
  });

  after(async function () {
    this.timeout(120_000);
    for (const c of live) await c.stop('SIGKILL').catch(() => undefined);
    if (!env) return;
    for (const name of ['slim', 'bare']) await env.cli(['workspace', 'rm', name, '--force']).catch(() => undefined);
    await env.cleanup();
    rmSync(root, { recursive: true, force: true });
    if (Object.keys(numbers).length) console.log(`    measured: ${JSON.stringify(numbers)}`);
  });

  for (const [name, image] of [
    ['slim', NOSSHD_IMAGE],
    ['bare', BUSYBOX_IMAGE],
  ] as const) {
    it(`${image}: up is healthy; a command, a pty, SFTP and a -L forward work through the generated ssh_config`, async function () {
      this.timeout(300_000);
      const alias = `${name}.local.vendetta`;
      const up = await env.cli(['workspace', 'up', project(root, name, image), '--node', 'local', '--json'], {
        timeoutMs: 240_000,
      });
      const r = parse<WorkspaceUpResult>(up, 'workspace up');
      numbers[`${name}UpMs`] = up.ms;
      assert.equal(r.state, 'running');
      assert.deepEqual(
        r.services?.map((s) => [s.name, s.state]),
        [
          ['web', 'healthy'],
          ['other', 'healthy'],
        ],
        JSON.stringify(r.services),
      );
      const web = r.services!.find((s) => s.name === 'web')!;
      assert.match(web.lastCheck?.output ?? '', /^HTTP 200 from http:\/\/localhost:8080\/index\.html$/);
      assert.match(r.services!.find((s) => s.name === 'other')!.lastCheck?.output ?? '', /^port 9090 /);
      // Nothing that could have made the check inside is there.
      const none = await env.ssh(alias, [
        'for c in curl wget node sshd; do command -v $c; done; ls /usr/sbin/sshd 2>&1; true',
      ]);
      assert.equal(none.code, 0, none.stderr);
      assert.doesNotMatch(none.stdout, /^\/\S*(curl|wget|node)$/m, none.stdout);
      assert.match(none.stdout, /No such file or directory/);

      // A command, through the generated config (pinned host key, StrictHostKeyChecking yes).
      const cmd = await env.ssh(alias, ['cat', `/workspaces/${name}/www/index.html`, ';', 'id', '-u']);
      assert.equal(cmd.code, 0, cmd.stderr);
      assert.equal(cmd.stdout, `<p>served by busybox in ${name}</p>\n0\n`);
      assert.doesNotMatch(cmd.stderr, /Could not chdir/, 'root has a home folder');
      const config = join(env.h.home, 'ssh_config');
      assert.match(
        readFileSync(config, 'utf8'),
        new RegExp(`Host ${name}\\.local\\.vendetta[^]*StrictHostKeyChecking yes`),
      );

      // A pty.
      const tty = await env.run(['ssh', '-F', config, '-o', 'BatchMode=yes', '-tt', alias, 'tty']);
      assert.equal(tty.code, 0, tty.stderr);
      assert.match(tty.stdout, /^\/dev\/pts\/\d+\r?$/m);

      // SFTP: put, list, get back.
      const local = join(root, `${name}-sftp.txt`);
      writeFileSync(local, `sftp into ${name}\n`);
      const batch = join(root, `${name}-batch`);
      writeFileSync(batch, `put ${local} /tmp/up.txt\nls -l /tmp/up.txt\nget /tmp/up.txt ${local}.back\n`);
      const sftp = await env.run(['sftp', '-F', config, '-o', 'BatchMode=yes', '-b', batch, alias]);
      assert.equal(sftp.code, 0, sftp.stderr);
      assert.equal(readFileSync(`${local}.back`, 'utf8'), `sftp into ${name}\n`);
      assert.equal((await env.ssh(alias, ['cat', '/tmp/up.txt'])).stdout, `sftp into ${name}\n`);

      // -L to the workspace's loopback: httpd answers through the SSH server the agent brought.
      const localPort = 20000 + Math.floor(Math.random() * 20000);
      const fwd = startLive(
        [
          ...env.dockerd.nsenter,
          'ssh',
          '-F',
          config,
          '-o',
          'BatchMode=yes',
          '-o',
          'ExitOnForwardFailure=yes',
          '-N',
          '-L',
          `127.0.0.1:${localPort}:127.0.0.1:8080`,
          alias,
        ],
        { ...process.env, VENDETTA_HOME: env.h.home, DOCKER_HOST: env.dockerd.host, SSH_AUTH_SOCK: '' },
      );
      live.push(fwd);
      let got = { status: 0, body: '' };
      for (let i = 0; i < 50 && got.status !== 200; i++) {
        got = JSON.parse(
          (await env.run(httpGetScript(`http://127.0.0.1:${localPort}/index.html`))).stdout || '{"status":0,"body":""}',
        ) as typeof got;
        if (got.status !== 200) await new Promise((res) => setTimeout(res, 200));
      }
      assert.equal(got.status, 200, got.body);
      assert.equal(got.body, `<p>served by busybox in ${name}</p>\n`);
      await fwd.stop('SIGTERM');
    });
  }

  it('a changed sshd config (forwardAgent) reaches the brought server: it starts again on it, healthy, with the same host key', async function () {
    this.timeout(240_000);
    const dir = join(root, 'bare');
    const pinned = () =>
      readFileSync(join(env.h.home, 'known_hosts'), 'utf8')
        .split('\n')
        .filter((l) => l.includes('bare'));
    const before = pinned();
    assert.equal(before.length, 1, 'one pinned key for bare');
    const startedAt = async () => {
      const c = (await env.containers()).find((x) => x.Labels['dev.vendetta.workspace'] === 'bare')!;
      const r = await env.dockerd.engine.json({
        method: 'GET',
        path: `/containers/${c.Names[0]!.slice(1)}/json`,
        accept: [200],
        what: 'inspect',
      });
      return (r.value as { State: { StartedAt: string } }).State.StartedAt;
    };
    const startedBefore = await startedAt();
    const cfg = join(dir, '.vendetta', 'config.yaml');
    writeFileSync(
      cfg,
      readFileSync(cfg, 'utf8').replace('provider: docker\n', 'provider: docker\nforwardAgent: true\n'),
    );
    const again = parse<WorkspaceUpResult>(
      await env.cli(['workspace', 'up', dir, '--node', 'local', '--json'], { timeoutMs: 200_000 }),
      'up with forwardAgent',
    );
    assert.deepEqual(
      again.services?.map((s) => s.state),
      ['healthy', 'healthy'],
      JSON.stringify(again.services),
    );
    assert.deepEqual(pinned(), before);
    const cmd = await env.ssh('bare.local.vendetta', [
      'grep',
      'AllowAgentForwarding',
      '/etc/vendetta/sshd_config',
      ';',
      'cat',
      '/proc/1/cmdline',
    ]);
    assert.equal(cmd.code, 0, cmd.stderr);
    assert.match(cmd.stdout, /^AllowAgentForwarding yes$/m);
    assert.match(
      cmd.stdout,
      /\n\/\.vendetta\/sshd\/ld-linux[^\0]*\0/,
      `the brought server is the main process: ${JSON.stringify(cmd.stdout)}`,
    );
    assert.notEqual(
      await startedAt(),
      startedBefore,
      'the brought server cannot reload: the container started again on the new config',
    );
    // And after a stop, up starts it again.
    assert.equal((await env.cli(['workspace', 'stop', 'bare'])).code, 0);
    const third = parse<WorkspaceUpResult>(
      await env.cli(['workspace', 'up', dir, '--node', 'local', '--json'], { timeoutMs: 200_000 }),
      'up after stop',
    );
    assert.deepEqual(
      third.services?.map((s) => s.state),
      ['healthy', 'healthy'],
      JSON.stringify(third.services),
    );
    assert.equal((await env.ssh('bare.local.vendetta', ['echo', 'back'])).stdout, 'back\n');
  });
});
