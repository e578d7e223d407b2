import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFreshMachine, type FreshMachine } from '../infra/freshMachine';
import { killPids, requireRoot, waitGoneSync } from '../infra/sys';

const root = join(__dirname, '..', '..');
const README = readFileSync(join(root, 'examples', 'hello', 'README.md'), 'utf8');
/** The tests that once depended on what ran on the machine before them (issue: a fresh machine failed them). */
const MACHINE_SENSITIVE = [
  ['test/unit/agent/workspaceParams.test.ts', 'sshd -T'],
  ['test/integration/demoNoEngine.test.ts', 'no Docker engine'],
] as const;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The README's two commands on a new user's machine, in order: `npm run demo` (as root, no engine:
 * it starts its own), then the tests that depend on the machine's state, before and after it; then
 * the demo's clean-up, which must leave the machine as it found it. The machine is a fresh /run and
 * a network namespace of this test's own (test/infra/freshMachine.ts), so neither the engines and
 * sshds of other suites nor this demo's engine leak across.
 */
describe('npm run demo on a new user’s machine', function () {
  this.timeout(600_000);
  let machine: FreshMachine | undefined;
  let base: string;
  let env: NodeJS.ProcessEnv;
  let runBefore: string[];
  let runBeforeDemo: string[];
  let demo: Run;

  const inMachine = (argv: string[], timeoutMs = 300_000): Promise<Run> =>
    new Promise((resolve) => {
      const full = [...machine!.enter(root), ...argv];
      const child = spawn(full[0]!, full.slice(1), { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  const listRun = async () => (await inMachine(['ls', '-A', '/run'])).stdout.split('\n').filter(Boolean).sort();
  const machineSensitiveTests = async () => {
    for (const [file, grep] of MACHINE_SENSITIVE) {
      const r = await inMachine([
        process.execPath,
        join(root, 'node_modules/.bin/mocha'),
        '--require',
        'tsx/cjs',
        '--timeout',
        '180000',
        '--grep',
        grep,
        file,
      ]);
      assert.equal(r.code, 0, `${file} --grep '${grep}' on the fresh machine:\n${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /\b1 passing\b/, r.stdout);
      assert.doesNotMatch(r.stdout, /pending/, r.stdout);
    }
  };

  before(async function () {
    requireRoot(this, 'the demo on a fresh machine (namespaces, a private dockerd)');
    base = mkdtempSync(join(tmpdir(), 'vendetta-demo-'));
    mkdirSync(join(base, 'home'));
    // A new user's HOME and Vendetta home; the image tarball cache is this machine's (a cold
    // debootstrap is measured by hand, not in every test run).
    env = {
      ...process.env,
      HOME: join(base, 'home'),
      VENDETTA_HOME: join(base, 'vendetta'),
      VENDETTA_IMAGE_CACHE: process.env.VENDETTA_IMAGE_CACHE ?? join(homedir(), '.cache', 'vendetta', 'images'),
      SSH_AUTH_SOCK: '',
      CI: 'true',
    };
    delete env.DOCKER_HOST;
    delete env.XDG_DATA_HOME;
    machine = await startFreshMachine();
    runBefore = await listRun();
  });

  after(() => {
    if (!base) return;
    // Whatever the demo left running (a failed run): every process in the machine's namespace.
    machine?.stop();
    const state = join(base, 'vendetta', 'demo', 'dockerd', 'dockerd.json');
    if (existsSync(state)) {
      const { pid } = JSON.parse(readFileSync(state, 'utf8')) as { pid: number };
      killPids([pid]);
      waitGoneSync([pid]);
    }
    rmSync(base, { recursive: true, force: true });
  });

  it('before the demo: no /run/sshd, no engine, and the sshd -T and no-engine tests pass there', async () => {
    assert.deepEqual(runBefore, ['lock']);
    await machineSensitiveTests();
  });

  it('brings examples/hello up with a private dockerd kept under $VENDETTA_HOME/demo, and reads its README through OpenSSH', async () => {
    runBeforeDemo = await listRun();
    demo = await inMachine(['npm', 'run', '--silent', 'demo']);
    const r = demo;
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const dockerd = join(env.VENDETTA_HOME!, 'demo', 'dockerd');
    assert.match(r.stdout, /examples\/hello\/\.vendetta\/config\.yaml: ok/);
    assert.ok(r.stdout.includes(`starting a private dockerd on ${dockerd}/docker.sock`), r.stdout);
    assert.ok(r.stdout.includes(`started dockerd (pid `), r.stdout);
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
    assert.ok(r.stdout.includes(`export DOCKER_HOST=unix://${dockerd}/docker.sock`), r.stdout);
    assert.match(
      r.stdout,
      /Clean up:\n {2}npm run demo -- --clean +# the workspace, the coordinator, the local agent, the private dockerd and its data\n/,
    );
    // Nothing of the engine in the system's paths: no /var/run/docker.sock, no /run/vendetta-dockerd.
    const runNow = await listRun();
    for (const name of ['docker.sock', 'vendetta-dockerd'])
      assert.ok(!runNow.includes(name), `/run/${name} after the demo: ${runNow.join(' ')}`);
  });

  it('after the demo: the sshd -T and no-engine tests still pass', async () => {
    assert.equal(demo?.code, 0, 'the demo ran');
    await machineSensitiveTests();
  });

  it('`npm run demo -- --clean` leaves nothing behind: no process, no mount, no /run entry, no folder, no ssh_config block', async () => {
    assert.equal(demo?.code, 0, 'the demo ran');
    const r = await inMachine(['npm', 'run', '--silent', 'demo', '--', '--clean']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /stopping the private dockerd \(pid \d+\)/);
    assert.match(r.stdout, /Cleaned up\. Kept: the image cache /);
    const left = machine!
      .processes()
      .map((p) => `${p}: ${readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
    assert.deepEqual(left, [], 'processes left on the machine');
    assert.deepEqual(await listRun(), runBeforeDemo, '/run as before the demo');
    const mounts = (await inMachine(['cat', '/proc/self/mountinfo'])).stdout
      .split('\n')
      .filter((l) => l.includes(base));
    assert.deepEqual(mounts, [], 'mounts left under the test folder');
    assert.ok(!existsSync(join(env.VENDETTA_HOME!, 'demo')), '$VENDETTA_HOME/demo removed');
    const sshConfig = join(env.VENDETTA_HOME!, 'ssh_config');
    assert.ok(
      !existsSync(sshConfig) || !readFileSync(sshConfig, 'utf8').includes('hello.local.vendetta'),
      'the ssh_config block removed',
    );
    const links = (await inMachine(['ip', '-o', 'link'])).stdout;
    assert.doesNotMatch(links, /docker0|veth/, 'the bridge and container links removed');
  });
});
