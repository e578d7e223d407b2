import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceStatus, WorkspaceSummary, WorkspaceUpResult } from '../../coordinator/protocol';
import { median, REPO } from './coordinatorHarness';
import { TEST_IMAGE } from '../infra/image';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';

const HELLO = join(REPO, 'examples', 'hello');
const README = readFileSync(join(HELLO, 'README.md'), 'utf8');

function parse<T>(r: { code: number; stdout: string; stderr: string }, what: string): T {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

describe('workspaces on the local node: the built CLI, a real dockerd, the real OpenSSH client', function () {
  let env: WorkspaceEnv;
  let copy: string;
  const numbers: Record<string, number> = {};

  before(async function () {
    // Needs root (dockerd, network namespaces); under CI it never skips.
    if (process.getuid?.() !== 0 && process.env.CI !== 'true') {
      console.log('    (skipped: the Docker workspace suite needs root)');
      this.skip(); // not root, off CI: the suite needs dockerd and network namespaces
    }
    this.timeout(600_000);
    env = await createWorkspaceEnv();
    copy = join(env.h.dir, 'projects', 'hello-copy');
    mkdirSync(join(env.h.dir, 'projects'), { recursive: true });
    cpSync(HELLO, copy, { recursive: true });
  });

  after(async function () {
    this.timeout(120_000);
    if (!env) return;
    for (const w of ['hello', 'hello-copy']) await env.cli(['workspace', 'rm', w, '--force']).catch(() => undefined);
    await env.cleanup();
    if (Object.keys(numbers).length) console.log(`    measured: ${JSON.stringify(numbers)}`);
  });

  it('up examples/hello, then `ssh -F $VENDETTA_HOME/ssh_config <alias> cat` prints its README', async () => {
    const up = await env.cli(['workspace', 'up', HELLO, '--json']);
    const r = parse<WorkspaceUpResult>(up, 'workspace up');
    assert.deepEqual(
      [r.name, r.node, r.provider, r.state, r.sshHost, r.workspaceFolder, r.existed],
      ['hello', 'local', 'docker', 'running', 'hello.local.vendetta', '/workspaces/hello', false],
    );
    assert.ok(r.sync && r.sync.sent === r.sync.files && r.sync.files >= 7, JSON.stringify(r.sync));
    const cat = await env.ssh('hello.local.vendetta', ['cat', '/workspaces/hello/README.md']);
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, README);
    numbers.upToSshReadyMs = up.ms + cat.ms;

    const human = await env.cli(['workspace', 'up', HELLO]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stderr, /^\[1\/6\] Reading the workspace config \d+\.\d s$/m);
    assert.match(human.stderr, /^\[5\/6\] Syncing code \d+\.\d s$/m);
    assert.match(human.stdout, /^hello on local is running \(already there/m);
    assert.match(human.stdout, /sync: +\d+ files, 0 sent/);
  });

  it('exec runs argv (no shell unless asked), streams stdio and passes the exit code back', async () => {
    const ok = await env.cli(['workspace', 'exec', 'hello', '--', 'sh', '-c', 'echo out; echo err >&2; pwd']);
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout, 'out\n/workspaces/hello\n');
    assert.equal(ok.stderr, 'err\n');
    const code42 = await env.cli(['workspace', 'exec', 'hello', '--', 'sh', '-c', 'exit 42']);
    assert.equal(code42.code, 42);
    const literal = await env.cli([
      'workspace',
      'exec',
      'hello',
      '--',
      'printf',
      '%s|',
      '$HOME',
      'a b',
      "it's",
      ';',
      'true',
    ]);
    assert.equal(literal.stdout, "$HOME|a b|it's|;|true|", 'each word arrives as one argument, unexpanded');
    const piped = await env.cli(['workspace', 'exec', 'hello', '--', 'wc', '-c'], { input: Buffer.alloc(300_000, 1) });
    assert.equal(piped.stdout.trim(), '300000');
    const ssh = await env.cli(['workspace', 'ssh', 'hello', '--', 'sh', '-c', 'exit 7']);
    assert.equal(ssh.code, 7, 'workspace ssh runs OpenSSH and returns its code');
  });

  it('a second up of a changed copy sends only the changed file; two workspaces do not collide', async () => {
    const first = parse<WorkspaceUpResult>(
      await env.cli(['workspace', 'up', copy, '--name', 'hello-copy', '--json']),
      'up copy',
    );
    assert.equal(first.workspaceFolder, '/workspaces/hello-copy');
    writeFileSync(join(copy, 'README.md'), '# changed\n');
    const later = new Date(Date.now() + 2000);
    utimesSync(join(copy, 'README.md'), later, later);
    const again = await env.cli(['workspace', 'up', copy, '--name', 'hello-copy', '--json']);
    const r = parse<WorkspaceUpResult>(again, 'second up');
    assert.equal(r.existed, true);
    assert.equal(r.sync?.sent, 1, JSON.stringify(r.sync));
    numbers.reUpOneChangedFileMs = again.ms;
    const cat = await env.ssh('hello-copy.local.vendetta', ['cat', '/workspaces/hello-copy/README.md']);
    assert.equal(cat.stdout, '# changed\n');
    assert.equal(
      (await env.ssh('hello.local.vendetta', ['cat', '/workspaces/hello/README.md'])).stdout,
      README,
      'the other workspace is untouched',
    );

    const [a, b] = await Promise.all(
      ['hello', 'hello-copy'].map(async (n) =>
        parse<WorkspaceStatus>(await env.cli(['workspace', 'status', n, '--json']), 'status'),
      ),
    );
    assert.notEqual(a!.ssh!.port, b!.ssh!.port);
    assert.notEqual(a!.nodeFolder, b!.nodeFolder);
    assert.notEqual(a!.ssh!.fingerprint, b!.ssh!.fingerprint, 'each workspace has its own host key');
    const names = (await env.containers()).map((c) => c.Names[0]).sort();
    assert.equal(names.length, 2);
    assert.equal(new Set(names).size, 2);
  });

  it('ssh-proxy connects fast (measured beside a direct ssh to the same sshd)', async () => {
    const s = parse<WorkspaceStatus>(await env.cli(['workspace', 'status', 'hello', '--json']), 'status');
    const key = join(env.h.home, 'keys', 'workspace_ed25519');
    const direct = [
      'ssh',
      '-o',
      'BatchMode=yes',
      '-i',
      key,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      `UserKnownHostsFile=${join(env.h.home, 'known_hosts')}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'HostKeyAlias=hello.local.vendetta',
      '-p',
      String(s.ssh!.port),
      `root@${s.ssh!.host}`,
      'true',
    ];
    const viaProxy: number[] = [];
    const plain: number[] = [];
    for (let i = 0; i < 5; i++) {
      const p = await env.ssh('hello.local.vendetta', ['true']);
      assert.equal(p.code, 0, p.stderr);
      viaProxy.push(p.ms);
      const d = await env.run(direct);
      assert.equal(d.code, 0, d.stderr);
      plain.push(d.ms);
    }
    numbers.sshViaProxyMs = median(viaProxy);
    numbers.sshDirectMs = median(plain);
  });

  it('keeps a file written in the workspace across stop and start; exec says why it cannot reach a stopped one', async () => {
    assert.equal((await env.cli(['workspace', 'exec', 'hello', '--', 'sh', '-c', 'echo kept > /root/note'])).code, 0);
    assert.equal((await env.cli(['workspace', 'stop', 'hello'])).code, 0);
    const rows = parse<WorkspaceSummary[]>(await env.cli(['workspace', 'list', '--json']), 'list');
    assert.equal(rows.find((w) => w.name === 'hello')?.state, 'stopped');
    // exec does not start it (ssh does: workspaceWake.test.ts).
    const refused = await env.cli(['workspace', 'exec', 'hello', '--', 'true']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /error: The workspace hello on local is stopped/);
    assert.match(refused.stderr, /hint: Start it with `vendetta workspace start hello`/);
    assert.equal((await env.cli(['workspace', 'start', 'hello'])).code, 0);
    assert.equal((await env.ssh('hello.local.vendetta', ['cat', '/root/note'])).stdout, 'kept\n');
  });

  it('down stops the workspace of the current folder; up in it starts it again', async () => {
    const down = await env.cli(['down'], { cwd: copy });
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /stopped hello-copy on local/);
    const up = await env.cli(['up', '--name', 'hello-copy'], { cwd: copy });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /hello-copy on local is running/);
  });

  it('survives a coordinator killed with SIGKILL: still listed, and ssh starts a new one', async () => {
    const pid = env.h.coordinatorPid();
    assert.ok(pid);
    process.kill(pid, 'SIGKILL');
    const cat = await env.ssh('hello.local.vendetta', ['cat', '/workspaces/hello/README.md']);
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, README);
    assert.notEqual(env.h.coordinatorPid(), pid);
    const rows = parse<WorkspaceSummary[]>(await env.cli(['workspace', 'list', '--json']), 'list');
    assert.deepEqual(rows.map((w) => [w.name, w.state]).sort(), [
      ['hello', 'running'],
      ['hello-copy', 'running'],
    ]);
  });

  it('ssh refuses a workspace whose host key is not the pinned one', async () => {
    const kh = join(env.h.home, 'known_hosts');
    const good = readFileSync(kh, 'utf8');
    const other = good
      .split('\n')
      .find((l) => l.startsWith('hello-copy.local.vendetta '))!
      .split(' ')
      .slice(1)
      .join(' ');
    writeFileSync(kh, good.replace(/^hello\.local\.vendetta .*$/m, `hello.local.vendetta ${other}`));
    try {
      const r = await env.ssh('hello.local.vendetta', ['true']);
      assert.equal(r.code, 255);
      assert.match(r.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
      const exec = await env.cli(['workspace', 'exec', 'hello', '--', 'true']);
      assert.equal(exec.code, 1);
      assert.match(exec.stderr, /error: The host key of hello\.local\.vendetta is not the one pinned/);
    } finally {
      writeFileSync(kh, good);
    }
    assert.equal((await env.ssh('hello.local.vendetta', ['true'])).code, 0);
  });

  it("ssh-config install lets the user's own ssh config reach the workspace", async () => {
    const home = join(env.h.dir, 'user-home');
    mkdirSync(home);
    const r = await env.cli(['ssh-config', 'install', '--json'], { env: { HOME: home } });
    assert.equal(r.code, 0, r.stderr);
    const cfg = join(home, '.ssh', 'config');
    // OpenSSH takes ~ from the password file, not $HOME: name the file.
    const cat = await env.ssh('hello.local.vendetta', ['cat', '/workspaces/hello/README.md'], { config: cfg });
    assert.equal(cat.stdout, README);
    assert.equal((await env.cli(['ssh-config', 'uninstall'], { env: { HOME: home } })).code, 0);
    assert.equal(readFileSync(cfg, 'utf8'), '');
  });

  it('refuses bad input with clear errors and changes nothing', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['workspace', 'up', HELLO, '--name', 'a;rm -rf /'], 2, /error: Invalid workspace name: "a;rm -rf \/"/],
      [['workspace', 'up', HELLO, '--name', '../etc'], 2, /error: Invalid workspace name/],
      [['workspace', 'up', HELLO, '--node', '-oProxyCommand=x'], 2, /error: Invalid node name/],
      [['workspace', 'up', env.h.dir], 1, /is not a project: it has no \.vendetta\/config\.yaml/],
      [['workspace', 'up', join(env.h.dir, 'nowhere')], 1, /is not a project: no such folder/],
      [['workspace', 'status', 'ghost'], 1, /error: There is no workspace named ghost/],
      [['workspace', 'exec', 'ghost', '--', 'true'], 1, /error: There is no workspace named ghost/],
      [['workspace', 'rm', '$(reboot)'], 2, /error: Invalid workspace name/],
      [['ssh-proxy', 'x;id.local.vendetta'], 1, /error: Not a workspace host/],
      [['ssh-proxy', 'ghost.local.vendetta'], 1, /error: There is no workspace named ghost on local/],
    ];
    for (const [args, code, msg] of cases) {
      const r = await env.cli(args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg, args.join(' '));
      // ssh-proxy says it on one line (ssh shows it among its own): `error: … (hint)`.
      assert.match(
        r.stderr,
        args[0] === 'ssh-proxy' ? /^error: .+ \(.+\)$/m : /^hint: /m,
        `${args.join(' ')} gives a hint`,
      );
    }
    const rows = parse<WorkspaceSummary[]>(await env.cli(['workspace', 'list', '--json']), 'list');
    assert.deepEqual(rows.map((w) => w.name).sort(), ['hello', 'hello-copy']);
  });

  // An image without an SSH server comes up with the node's own (workspaceNoSshd.test.ts).
  it('says clearly when an image is missing or lacks git for --git, and keeps no half-made workspace', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['no-image', 'vendetta-test/does-not-exist:1', /vendetta-test\/does-not-exist:1/],
    ];
    for (const [name, image, msg] of cases) {
      const dir = join(env.h.dir, 'projects', name);
      mkdirSync(join(dir, '.vendetta'), { recursive: true });
      writeFileSync(join(dir, '.vendetta', 'config.yaml'), `name: ${name}\ndocker: { image: "${image}" }\n`);
      const r = await env.cli(['workspace', 'up', dir]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, msg);
      assert.match(r.stderr, /^hint: /m);
    }
    const rows = parse<WorkspaceSummary[]>(await env.cli(['workspace', 'list', '--json']), 'list');
    assert.deepEqual(rows.map((w) => w.name).sort(), ['hello', 'hello-copy']);
    assert.doesNotMatch(readFileSync(join(env.h.home, 'ssh_config'), 'utf8'), /no-image/);

    const git = await env.cli([
      'workspace',
      'up',
      copy,
      '--name',
      'hello-git',
      '--git',
      'file:///srv/git/shop.git#main',
    ]);
    assert.equal(git.code, 1);
    assert.match(git.stderr, /error: git is not installed in hello-git/);
    assert.match(git.stderr, /hint: Use an image with git/);
    assert.equal((await env.cli(['workspace', 'rm', 'hello-git', '--force'])).code, 0);
  });

  it('builds the image from the project (docker.build) on the node: code first, then the build', async () => {
    const dir = join(env.h.dir, 'projects', 'built');
    mkdirSync(join(dir, '.vendetta'), { recursive: true });
    writeFileSync(
      join(dir, '.vendetta', 'config.yaml'),
      'name: built\ndocker:\n  image: vendetta-test/built:1\n  build: { context: ., dockerfile: Dockerfile }\n',
    );
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${TEST_IMAGE}\nCOPY marker.txt /etc/marker.txt\n`);
    writeFileSync(join(dir, 'marker.txt'), 'built from the project on the node\n');
    const up = parse<WorkspaceUpResult>(await env.cli(['workspace', 'up', dir, '--json']), 'up built');
    assert.equal(up.state, 'running');
    const cat = await env.ssh('built.local.vendetta', ['cat', '/etc/marker.txt', '/workspaces/built/marker.txt']);
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, 'built from the project on the node\n'.repeat(2));
    assert.equal((await env.cli(['workspace', 'rm', 'built', '--force'])).code, 0);
  });

  it('rm leaves nothing: no container, no folder on the node, no ssh_config block, no known_hosts line', async () => {
    const busy = await env.cli(['workspace', 'rm', 'hello-copy']);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /--force/);
    const rm = await env.cli(['workspace', 'rm', 'hello-copy', '--force', '--json']);
    assert.deepEqual(parse(rm, 'rm'), { name: 'hello-copy', node: 'local' });
    assert.deepEqual(
      (await env.containers()).map((c) => c.Labels['dev.vendetta.workspace']),
      ['hello'],
    );
    assert.equal(existsSync(join(env.h.home, 'local-agent', 'workspaces', 'hello-copy')), false);
    assert.doesNotMatch(readFileSync(join(env.h.home, 'ssh_config'), 'utf8'), /hello-copy/);
    assert.doesNotMatch(readFileSync(join(env.h.home, 'known_hosts'), 'utf8'), /hello-copy/);
    assert.equal(existsSync(join(env.h.home, 'state', 'sync', 'local', 'hello-copy.json')), false);
    const gone = await env.ssh('hello-copy.local.vendetta', ['true']);
    assert.notEqual(gone.code, 0);
    assert.equal((await env.ssh('hello.local.vendetta', ['true'])).code, 0, 'the other one still works');
  });
});
