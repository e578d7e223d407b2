import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDockerd, type Dockerd } from '../infra/docker';

const root = join(__dirname, '..', '..');
const README = readFileSync(join(root, 'examples', 'hello', 'README.md'), 'utf8');

/**
 * README's first command, as a new user runs it (with a private VENDETTA_HOME). The demo is pointed
 * at this test's own dockerd (DOCKER_HOST), in a network namespace of its own that the demo and
 * everything it starts run in, so it neither shares an engine with other suites nor starts one.
 */
describe('npm run demo', function () {
  this.timeout(600_000);
  let home: string;
  let dockerd: Dockerd | undefined;

  before(async function () {
    // Needs root (dockerd, network namespaces); under CI it never skips.
    if (process.getuid?.() !== 0 && process.env.CI !== 'true') {
      console.log('    (skipped: the demo test needs root for its private dockerd)');
      this.skip(); // not root, off CI: the demo test needs a private dockerd
    }
    home = mkdtempSync(join(tmpdir(), 'vendetta-demo-'));
    dockerd = await startDockerd({ dir: join(home, 'dockerd'), ownNetns: true, bip: '10.79.212.1/24' });
  });

  after(async function () {
    if (!home) return;
    const env = { ...process.env, VENDETTA_HOME: home, DOCKER_HOST: dockerd?.host ?? '' };
    const ns = dockerd?.nsenter ?? [];
    const cli = (args: string[]) => spawnSync(ns[0] ?? process.execPath, [...ns.slice(1), ...(ns.length ? [process.execPath] : []), join(root, 'dist/vendetta.js'), ...args], { env, timeout: 60_000 });
    cli(['workspace', 'rm', 'hello', '--force']);
    cli(['coordinator', 'stop']);
    if (ns.length) spawnSync(ns[0]!, [...ns.slice(1), 'runuser', '-u', 'nobody', '--', process.execPath, join(root, 'dist/vendetta.js'), 'coordinator', 'stop'], { env: { ...env, VENDETTA_HOME: join(home, 'nobody', 'home') }, timeout: 60_000 });
    for (const pidFile of [join(home, 'local-agent', 'daemon.pid'), join(home, 'nobody', 'home', 'local-agent', 'daemon.pid')]) {
      if (!existsSync(pidFile)) continue;
      const { pid } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number };
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await dockerd?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('brings examples/hello up on the local node and reads its README through OpenSSH', async () => {
    const d = dockerd!;
    const argv = [...d.nsenter, 'npm', 'run', '--silent', 'demo'];
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), { cwd: root, env: { ...process.env, VENDETTA_HOME: home, DOCKER_HOST: d.host, SSH_AUTH_SOCK: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /examples\/hello\/\.vendetta\/config\.yaml: ok/);
    assert.match(r.stdout, new RegExp(`using the engine on ${d.socket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(r.stdout, /^local\s+online\s/m);
    assert.match(r.stdout, /workspace image vendetta\/debian:bookworm[^\n]*\n {2}(built|cached) [^\n]* — \d+\.\d s/);
    const catAt = r.stdout.indexOf('▶ ssh -F ');
    assert.ok(catAt > 0, r.stdout);
    assert.ok(r.stdout.slice(catAt).includes(README), `the README through ssh:\n${r.stdout.slice(catAt)}`);
    // The services, reached from this machine through a forward: web → api → db counted a visit.
    assert.match(r.stdout, /^Forwarding http:\/\/127\.0\.0\.1:\d+ → hello:8080 \(node local\)$/m);
    assert.match(r.stdout, /GET {2}http:\/\/127\.0\.0\.1:\d+\/ +→ 200 text\/html/);
    assert.match(r.stdout, /POST http:\/\/127\.0\.0\.1:\d+\/api\/visits +→ \{"visits":\d+\}/);
    assert.match(r.stdout, /^\d\d:\d\d:\d\d\.\d{3} web +\| /m);
    assert.match(r.stdout, /Workspace hello is running on node local; ssh alias hello\.local\.vendetta\./);
    assert.match(r.stdout, /vendetta workspace ssh hello/);
    assert.match(r.stdout, /vendetta workspace list/);
    assert.match(r.stdout, /Clean up:\n[^\n]*workspace rm hello --force[^\n]*\n[^\n]*coordinator stop/);
    assert.doesNotMatch(r.stdout, /the private dockerd/, 'the demo used the engine it was given and started none');
  });

  it('not root and no Docker engine: says what is needed, still diagnoses the node, exits 1', () => {
    const d = dockerd!;
    const dir = join(home, 'nobody');
    mkdirSync(dir, { recursive: true });
    chmodSync(home, 0o755);
    chmodSync(dir, 0o777);
    const argv = [...d.nsenter, 'runuser', '-u', 'nobody', '--', process.execPath, join(root, 'scripts', 'demo.mjs')];
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, XDG_DATA_HOME: join(dir, 'xdg'), VENDETTA_HOME: join(dir, 'home'), SSH_AUTH_SOCK: '' };
    const r = spawnSync(argv[0]!, argv.slice(1), { cwd: root, env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 1, r.stderr + r.stdout);
    assert.match(r.stderr, /^error: no Docker engine answers on \/var\/run\/docker\.sock \(or DOCKER_HOST\), and only root may start one$/m);
    assert.match(r.stderr, /^hint: Run `npm run demo` as root/m);
    assert.match(r.stdout, /provider docker +no Docker engine answers/);
    assert.doesNotMatch(r.stdout, /workspace up/);
  });
});
