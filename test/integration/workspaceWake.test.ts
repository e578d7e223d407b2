import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceStatus, WorkspaceSummary, WorkspaceUpResult } from '../../coordinator/protocol';
import { TEST_IMAGE } from '../infra/image';
import { REPO, waitUntil, type CliResult } from './coordinatorHarness';
import { dotfilesRepo, FAILING_INSTALL } from './dotfilesRepo';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';

function parse<T>(r: { code: number; stdout: string; stderr: string }, what: string): T {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

describe('a workspace you live in: your git identity and dotfiles; it starts when you connect, and comes back after a node reboot', function () {
  let env: WorkspaceEnv;
  let project: string;
  let dotfiles: string;
  let firstUp: CliResult;
  const numbers: Record<string, number> = {};
  const upWake = () =>
    env.cli(['workspace', 'up', project, '--name', 'wake', '--dotfiles', dotfiles], {
      timeoutMs: 300_000,
      env: { GIT_CONFIG_GLOBAL: join(env.h.dir, 'gitconfig') },
    });

  before(async function () {
    // Needs root (dockerd, network namespaces); under CI it never skips.
    if (process.getuid?.() !== 0 && process.env.CI !== 'true') {
      console.log('    (skipped: the Docker workspace suite needs root)');
      this.skip(); // not root, off CI: the suite needs dockerd and network namespaces
    }
    this.timeout(600_000);
    env = await createWorkspaceEnv();
    project = join(env.h.dir, 'projects', 'wake');
    mkdirSync(join(env.h.dir, 'projects'), { recursive: true });
    cpSync(join(REPO, 'examples', 'hello'), project, { recursive: true });
    // A misspelt key, ignored with a warning (from the first up on, so no later up changes the config).
    const config = join(project, '.vendetta', 'config.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace('  cpus: 1\n', '  cpus: 1\n  cpuss: 2\n'));
    // This machine's git identity, as the coordinator (started by this first command) reads it.
    const gitconfig = join(env.h.dir, 'gitconfig');
    writeFileSync(gitconfig, '[user]\n\tname = Ada \\"Countess\\" Lovelace\n\temail = ada@example.com\n');
    dotfiles = dotfilesRepo(env.h.dir);
    firstUp = await upWake();
    assert.equal(firstUp.code, 0, firstUp.stderr);
  });

  after(async function () {
    this.timeout(120_000);
    if (!env) return;
    await env.cli(['workspace', 'rm', 'wake', '--force']).catch(() => undefined);
    await env.cleanup();
    if (Object.keys(numbers).length) console.log(`    measured: ${JSON.stringify(numbers)}`);
  });

  const state = async (name: string) =>
    parse<WorkspaceSummary[]>(await env.cli(['workspace', 'list', '--json']), 'list').find((w) => w.name === name)
      ?.state;

  it("the workspace has this machine's git identity in the login user's ~/.gitconfig", async () => {
    const r = await env.ssh('wake.local.vendetta', ['cat', '.gitconfig']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '[user]\n\tname = "Ada \\"Countess\\" Lovelace"\n\temail = "ada@example.com"\n');
  });

  it('your dotfiles, cloned from a local repository on the node, are installed once as the login user; a second up leaves them', async () => {
    assert.match(firstUp.stderr, /Dotfiles installed \(ran \.\/install\.sh\)/);
    const ran = () =>
      env.ssh('wake.local.vendetta', ['cat dotfiles-ran .vendetta/dotfiles-installed; ls -d dotfiles/.git']);
    const first = await ran();
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, `/root/dotfiles root\n${dotfiles}\ndotfiles/.git\n`);
    const t0 = Date.now();
    const again = await upWake();
    numbers.secondUpWithDotfilesMs = Date.now() - t0;
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /Dotfiles/, 'nothing cloned or installed again');
    assert.equal((await ran()).stdout, first.stdout);
  });

  it('`ssh <alias> true` through the generated config starts a stopped workspace, says so on stderr, and connects', async () => {
    assert.equal((await env.cli(['workspace', 'exec', 'wake', '--', 'sh', '-c', 'echo kept > /root/note'])).code, 0);
    assert.equal((await env.cli(['workspace', 'stop', 'wake'])).code, 0);
    assert.equal(await state('wake'), 'stopped');
    const r = await env.ssh('wake.local.vendetta', ['cat', '/root/note']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'kept\n', 'the same workspace, started, not a new one');
    assert.match(r.stderr, /^vendetta: wake\.local\.vendetta is stopped; starting it/m);
    assert.match(r.stderr, /^vendetta: wake\.local\.vendetta started in \d+\.\d s$/m);
    numbers.sshToStoppedWorkspaceMs = r.ms;
    assert.equal(await state('wake'), 'running');
    // Its services were started too, behind their checks.
    await waitUntil(
      async () => {
        const s = parse<WorkspaceStatus>(await env.cli(['workspace', 'status', 'wake', '--json']), 'status');
        return (s.services ?? []).length === 3 && s.services!.every((x) => x.state === 'healthy');
      },
      60_000,
      'the services of the started workspace to be healthy',
    );
    const again = await env.ssh('wake.local.vendetta', ['cat', 'dotfiles-ran']);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /starting it/, 'a running workspace is not started again');
    assert.equal(again.stdout, '/root/dotfiles root\n', 'a start does not install the dotfiles again');
  });

  it('a workspace whose container is gone fails at once with one line, and nothing is made again', async () => {
    const before = (await env.containers()).length;
    const ghost = join(env.h.dir, 'projects', 'ghost');
    mkdirSync(ghost, { recursive: true });
    writeProject(ghost, 'ghost');
    const up = await env.cli(['workspace', 'up', ghost], { timeoutMs: 300_000 });
    assert.equal(up.code, 0, up.stderr);
    const c = (await env.containers()).find((x) => x.Labels['dev.vendetta.workspace'] === 'ghost');
    assert.ok(c, 'the ghost workspace has a container');
    const id = (c as unknown as { Id: string }).Id;
    await env.dockerd.engine.send({
      method: 'DELETE',
      path: `/containers/${id}`,
      query: { force: 1 },
      accept: [204],
      what: 'remove',
    });
    const r = await env.ssh('ghost.local.vendetta', ['true']);
    assert.equal(r.code, 255);
    assert.ok(r.ms < 10_000, `failed in ${r.ms} ms`);
    const ours = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('error:') || l.startsWith('hint:') || l.startsWith('vendetta:'));
    assert.equal(ours.length, 1, r.stderr);
    assert.match(ours[0]!, /^error: The workspace ghost on local is missing\b.*\(.*workspace up/);
    assert.equal((await env.containers()).length, before, 'connecting never re-creates a workspace');
    await env.cli(['workspace', 'rm', 'ghost', '--force']);
  });

  it('a workspace on an offline node fails fast with one line', async () => {
    // A node that answers nothing: a closed loopback port (what a machine that is down looks like
    // to a coordinator on its network), and a workspace the coordinator remembers there.
    await env.cli(['coordinator', 'stop']);
    assert.ok(!existsSync(env.h.nodesFile), 'only the built-in local node so far');
    writeFileSync(
      env.h.nodesFile,
      `nodes:\n  - name: gone\n    host: 127.0.0.1\n    port: 9\n    user: nobody\n    hostKey: SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8\n    identity: ${join(env.h.home, 'keys', 'workspace_ed25519')}\n`,
    );
    const store = join(env.h.home, 'state', 'workspaces.json');
    const file = JSON.parse(readFileSync(store, 'utf8')) as { workspaces: Array<Record<string, unknown>> };
    file.workspaces.push({
      name: 'far',
      node: 'gone',
      provider: 'docker',
      sshHost: 'far.gone.vendetta',
      workspaceFolder: '/workspaces/far',
      user: 'root',
      createdAt: new Date().toISOString(),
    });
    writeFileSync(store, JSON.stringify(file));
    const r = await env.run([
      'ssh',
      '-F',
      join(env.h.home, 'ssh_config'),
      '-o',
      'BatchMode=yes',
      '-o',
      'ProxyCommand=' + proxyCommand(env),
      'far.gone.vendetta',
      'true',
    ]);
    assert.equal(r.code, 255);
    assert.ok(r.ms < 15_000, `failed in ${r.ms} ms`);
    const ours = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('error:') || l.startsWith('hint:') || l.startsWith('vendetta:'));
    assert.equal(ours.length, 1, r.stderr);
    assert.match(ours[0]!, /^error: .*gone/);
    numbers.offlineNodeFailsMs = r.ms;
  });

  it('after a node reboot (engine and agent restarted) the running workspace and its services come back; a stopped one stays stopped', async () => {
    const quiet = join(env.h.dir, 'projects', 'quiet');
    mkdirSync(quiet, { recursive: true });
    writeProject(quiet, 'quiet');
    const up = await env.cli(['workspace', 'up', quiet], { timeoutMs: 300_000 });
    assert.equal(up.code, 0, up.stderr);
    assert.equal((await env.cli(['workspace', 'stop', 'quiet'])).code, 0);
    assert.equal(await state('wake'), 'running');
    assert.equal(
      (await env.cli(['workspace', 'exec', 'wake', '--', 'sh', '-c', 'echo before > /root/reboot'])).code,
      0,
    );
    const agent = env.h.localAgentPid();
    assert.ok(agent, 'the local agent runs');
    process.kill(agent, 'SIGKILL');
    await env.dockerd.restart();
    const t0 = Date.now();
    await waitUntil(
      async () => {
        const s = parse<WorkspaceStatus>(await env.cli(['workspace', 'status', 'wake', '--json']), 'status');
        return (
          s.state === 'running' && (s.services ?? []).length === 3 && s.services!.every((x) => x.state === 'healthy')
        );
      },
      120_000,
      'the workspace and its services to be back',
    );
    numbers.backAfterRebootMs = Date.now() - t0;
    const r = await env.ssh('wake.local.vendetta', ['cat', '/root/reboot']);
    assert.equal(r.stdout, 'before\n', r.stderr);
    assert.doesNotMatch(r.stderr, /starting it/, 'it was back before anyone connected');
    assert.equal(await state('quiet'), 'stopped', 'a workspace the user stopped stays stopped');
    await env.cli(['workspace', 'rm', 'quiet', '--force']);
  });

  it('dotfiles whose install fails and an ignored config key are warnings: `up --json` lists them and exits 0 with the workspace running; a human up prints warning lines', async () => {
    const broken = dotfilesRepo(env.h.dir, 'broken-dotfiles', FAILING_INSTALL);
    // The workspace has its dotfiles: without the marker they are tried again (as after a failure).
    assert.equal((await env.ssh('wake.local.vendetta', ['rm', '.vendetta/dotfiles-installed'])).code, 0);
    const config = join(project, '.vendetta', 'config.yaml');
    const args = ['workspace', 'up', project, '--name', 'wake', '--dotfiles', broken];
    const target = ['--dotfiles-target-path', '~/broken-dotfiles'];
    const json = await env.cli([...args, ...target, '--json'], { timeoutMs: 300_000 });
    const r = parse<WorkspaceUpResult>(json, 'up --json');
    assert.equal(r.state, 'running');
    assert.deepEqual(
      r.warnings.map((w) => w.code),
      ['CONFIG_WARNING', 'DOTFILES_NOT_INSTALLED'],
      JSON.stringify(r.warnings),
    );
    assert.match(r.warnings[0]!.message, /unknown key `cpuss` in `docker`; did you mean `cpus`\?/);
    assert.deepEqual([r.warnings[0]!.file, r.warnings[0]!.line], [config, 9]);
    assert.match(
      r.warnings[1]!.message,
      /^Dotfiles not installed: \.\/install\.sh failed \(exit 7\): broken on purpose; the next `up` runs it again$/,
    );
    const human = await env.cli([...args, ...target], { timeoutMs: 300_000 });
    assert.equal(human.code, 0, human.stderr);
    assert.match(
      human.stderr,
      /^warning: Dotfiles not installed: \.\/install\.sh failed \(exit 7\): broken on purpose/m,
    );
    assert.match(human.stderr, /config\.yaml:9:3: warning: unknown key `cpuss`/, 'the config warning, located, once');
    assert.equal(human.stderr.match(/cpuss/g)?.length, 1, human.stderr);
    const home = await env.ssh('wake.local.vendetta', ['ls -d broken-dotfiles/.git; ls .vendetta']);
    assert.match(home.stdout, /^broken-dotfiles\/\.git$/m, 'cloned, then its script failed');
    assert.doesNotMatch(home.stdout, /dotfiles-installed/, 'not marked installed: the next up tries again');
  });
});

/** A project with one small workspace and no services. */
function writeProject(dir: string, name: string): void {
  mkdirSync(join(dir, '.vendetta'), { recursive: true });
  writeFileSync(
    join(dir, '.vendetta', 'config.yaml'),
    `name: ${name}\nprovider: docker\ndocker: { image: ${TEST_IMAGE} }\n`,
  );
  writeFileSync(join(dir, 'README.md'), `${name}\n`);
}

/** The ProxyCommand of the generated blocks (every block has the same one). */
function proxyCommand(env: WorkspaceEnv): string {
  const m = /^\s*ProxyCommand (.*) %h$/m.exec(readFileSync(join(env.h.home, 'ssh_config'), 'utf8'));
  assert.ok(m, 'ssh_config has a ProxyCommand');
  return `${m[1]} %h`;
}
