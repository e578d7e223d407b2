// The issue's "done when": a fresh Debian box with only sshd (its own file system, processes and
// network; OpenSSH and sudo, no Node.js, no Docker, no init system, no route out) becomes a
// working Docker node from `node add` and `node prepare` alone. `node add --install-runtime upload`
// brings the agent its runtime; `node prepare --provider docker --yes` installs Debian's docker.io
// for real with apt from the node's only source (a local repository of the cached packages), starts
// dockerd (by hand, saying so: nothing else would start it there), grants the docker group with the
// root-equivalence warning and proves it with `node test`; then an image-only workspace comes up in
// that new dockerd. One node's life for all checks (CI time): the tree and packages are cached.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PrepareNodeResult, WorkspaceUpResult } from '../../coordinator/protocol';
import { startDebianNode, type DebianNode } from '../infra/debianNode';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../infra/image';
import { setupSshSuite, type SshSuite } from '../infra/sshSuite';
import { createCliHome, nodeAddArgs, type CliHome } from './coordinatorHarness';

describe('a fresh Debian box with only sshd becomes a Docker node from `node add` and `node prepare` alone (own root, real apt, real dockerd)', function () {
  let s: SshSuite;
  let h: CliHome;
  let n: DebianNode;
  let project: string;
  const numbers: Record<string, number> = {};

  before(async function () {
    this.timeout(180_000);
    s = await setupSshSuite(this, { count: 1, label: 'fresh' });
    const t0 = Date.now();
    n = await startDebianNode(s.net, 0, { sudo: 'passwordless' });
    numbers.nodeStartMs = Date.now() - t0;
    if (n.tree.built) numbers.treeBuildMs = n.tree.buildMs;
    h = createCliHome();
    project = mkdtempSync(join(tmpdir(), 'vendetta-fresh-'));
  });
  after(async function () {
    this.timeout(120_000);
    if (h) await h.run(['workspace', 'rm', 'fresh', '--force'], { timeoutMs: 60_000 }).catch(() => undefined);
    // Containers removed by their engine (which drops their cgroups) before the node goes.
    n?.exec(['sh', '-c', 'docker rm -f $(docker ps -aq) >/dev/null 2>&1; true'], {
      allowFail: true,
      timeoutMs: 30_000,
    });
    n?.stop();
    await h?.cleanup();
    await s?.cleanup();
    if (project) rmSync(project, { recursive: true, force: true });
    console.log(`    measured: ${JSON.stringify(numbers)}`);
  });

  it('the box is as it comes: its own root, sshd as the only service, no Node.js, no Docker, no route out', function () {
    const ps = n.exec(['ps', '-e', '-o', 'comm=']).stdout.split('\n').filter(Boolean);
    assert.deepEqual([...new Set(ps.filter((c) => c !== 'ps'))].sort(), ['sh', 'sshd']);
    assert.equal(n.exec(['cat', '/proc/1/comm']).stdout.trim(), 'sh');
    assert.notEqual(n.exec(['sh', '-c', 'command -v node'], { allowFail: true }).status, 0, 'no Node.js');
    assert.notEqual(n.exec(['sh', '-c', 'command -v docker'], { allowFail: true }).status, 0, 'no Docker');
    assert.match(n.exec(['cat', '/etc/os-release']).stdout, /^PRETTY_NAME="Debian GNU\/Linux 12 \(bookworm\)"$/m);
    assert.equal(n.exec(['ip', 'route', 'show', 'default']).stdout.trim(), '', 'no default route');
    assert.equal(
      n.exec(['cat', '/etc/apt/sources.list']).stdout.trim(),
      'deb [trusted=yes] file:/srv/debian-packages ./',
    );
  });

  it("`node add --install-runtime upload`: this coordinator's Node.js is uploaded, and the agent runs on it", async function () {
    this.timeout(120_000);
    const r = await h.run(nodeAddArgs(n, ['--install-runtime', 'upload']), { timeoutMs: 110_000 });
    numbers.nodeAddMs = r.ms;
    assert.equal(r.code, 0, r.stderr);
    // No provider yet: the end of `node add` says how `node prepare` brings one.
    assert.match(
      r.stderr,
      new RegExp(`No provider works on ${n.name} yet: \`vendetta node prepare ${n.name} --provider docker\``),
    );
    const runtimeDir = n.path(`${n.home}/.vendetta-agent/runtime`);
    const [version] = readdirSync(runtimeDir);
    const uploaded = join(runtimeDir, version!, 'bin', 'node');
    const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
    assert.equal(sha(uploaded), sha(process.execPath), 'the exact bytes of this Node.js');
    const agent = n.exec(['pgrep', '-u', n.user, '-a', 'node'], { allowFail: true }).stdout;
    assert.match(agent, new RegExp(`${n.home}/\\.vendetta-agent/runtime/${version!.replace(/\./g, '\\.')}/bin/node `));
    const status = await h.run(['node', 'status', n.name]);
    assert.match(status.stdout, new RegExp(`${process.version.replace(/\./g, '\\.')} \\(uploaded\\)`));
    const test = await h.run(['node', 'test', n.name, '--json']);
    assert.match(test.stdout, /docker/i);
    assert.doesNotMatch(n.exec(['id', '-nG', n.user]).stdout, /\bdocker\b/);
  });

  it('`node prepare --provider docker --yes`: docker.io from apt, dockerd started (no init system, said so), the docker group granted with its warning, proven by `node test`', async function () {
    this.timeout(300_000);
    const r = await h.run(['node', 'prepare', n.name, '--provider', 'docker', '--yes'], { timeoutMs: 290_000 });
    numbers.prepareMs = r.ms;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const progress = [...r.stderr.matchAll(/^\[(\d)\/4\] (.*)$/gm)].map((m) => m[2]);
    assert.equal(progress.length, 4, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(
        `^Prepared ${n.name} for docker: Debian GNU/Linux 12 \\(bookworm\\) \\(x86_64\\), apt, as ${n.user} via sudo$`,
        'm',
      ),
    );
    const commands = [...r.stdout.matchAll(/^ {5}\$ (.*)$/gm)].map((m) => m[1]);
    assert.deepEqual(commands.slice(0, 2), [
      'sudo env DEBIAN_FRONTEND=noninteractive apt-get update',
      'sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker.io',
    ]);
    assert.match(commands[2]!, /^sudo sh -c '.*setsid dockerd >>\/var\/log\/docker\.log/);
    assert.equal(commands[3], `sudo usermod -aG docker ${n.user}`);
    assert.match(
      r.stdout,
      /3\. start dockerd \(this node runs no init system\)\n.*\n {5}note: this node's PID 1 is sh, not an init system[^\n]*will not start again when the node restarts/,
    );
    assert.match(r.stdout, /note: membership of docker is root-equivalent on this node/);
    // `node test` afterwards: Docker works for the agent's user.
    assert.match(r.stdout, /docker/i);
    const json = await h.run(['node', 'test', n.name, '--json']);
    const t = JSON.parse(json.stdout) as { ok: boolean; steps: Array<{ name: string; ok: boolean; detail: string }> };
    assert.equal(t.ok, true, json.stdout);
    const docker = t.steps.find((x) => /docker/i.test(x.name));
    assert.equal(docker?.ok, true, JSON.stringify(t.steps));
    // What happened on the box, seen from inside it.
    assert.match(
      n.exec(['dpkg-query', '-W', '-f', '${Status} ${Version}', 'docker.io']).stdout,
      /^install ok installed 20\.10\./,
    );
    assert.match(n.exec(['id', '-nG', n.user]).stdout, /\bdocker\b/);
    assert.match(n.exec(['pgrep', '-a', 'dockerd']).stdout, /^\d+ dockerd$/m);
    const dry = await h.json<PrepareNodeResult>(['node', 'prepare', n.name, '--provider', 'docker', '--dry-run']);
    assert.equal(
      dry.steps.some((x) => x.command.includes('usermod')),
      false,
      'already in the group: nothing more to grant',
    );
  });

  it('an image-only workspace comes up in the new dockerd (image loaded locally, no registry)', async function () {
    this.timeout(240_000);
    await ensureBusyboxImage(n.path('/run/docker.sock'));
    const dir = join(project, 'fresh');
    mkdirSync(join(dir, '.vendetta'), { recursive: true });
    writeFileSync(join(dir, 'hello.txt'), 'from the coordinator\n');
    writeFileSync(
      join(dir, '.vendetta', 'config.yaml'),
      `name: fresh\nprovider: docker\ndocker: { image: "${BUSYBOX_IMAGE}" }\n`,
    );
    const up = await h.run(['workspace', 'up', dir, '--node', n.name, '--json'], { timeoutMs: 220_000 });
    numbers.upMs = up.ms;
    assert.equal(up.code, 0, up.stderr);
    const r = JSON.parse(up.stdout) as WorkspaceUpResult;
    assert.equal(r.state, 'running');
    const ps = n.exec([
      'docker',
      'ps',
      '--filter',
      'label=dev.vendetta.workspace',
      '--format',
      '{{.Image}} {{.State}}',
    ]);
    assert.equal(ps.stdout.trim(), `${BUSYBOX_IMAGE} running`);
    const cat = n.exec(
      ['sh', '-c', 'docker exec $(docker ps -q --filter label=dev.vendetta.workspace) cat /workspaces/fresh/hello.txt'],
      { allowFail: true },
    );
    assert.equal(cat.stdout, 'from the coordinator\n', `${cat.stderr}\n${JSON.stringify(r)}`);
    const rm = await h.run(['workspace', 'rm', 'fresh', '--force'], { timeoutMs: 60_000 });
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(n.exec(['docker', 'ps', '-aq']).stdout.trim(), '');
  });
});
