import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_IMAGE } from '../infra/image';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';

const ALIAS = 'secrets.local.vendetta';

/** Every regular file under `dir` (links not followed) whose bytes hold `needle`, but those under `skip`. */
function filesHolding(dir: string, needle: string, skip: readonly string[]): string[] {
  const out: string[] = [];
  const visit = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (skip.includes(p)) continue;
      if (e.isDirectory()) visit(p);
      else if (e.isFile() && lstatSync(p).size < 64 * 1024 * 1024 && readFileSync(p).includes(needle)) out.push(p);
    }
  };
  visit(dir);
  return out.sort();
}

describe('secrets: a secretsFile reaches SSH logins and services, and nothing else', function () {
  let env: WorkspaceEnv;
  let project: string;
  // Unique per run, so a leftover of an earlier run can never be what is found.
  const SECRET = `s3cret-${randomUUID()}`;
  const secretsPath = () => join(project, '.vendetta', 'secrets.env');
  const config = (extra = '') =>
    [
      'name: secrets',
      'provider: docker',
      `docker: { image: ${TEST_IMAGE} }`,
      'secretsFile: .vendetta/secrets.env',
      extra,
      'services:',
      '  keeper:',
      '    command: ["sleep", "3601"]',
      '',
    ].join('\n');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: project, stdio: 'pipe' }).toString();
  const up = () => env.cli(['workspace', 'up', project], { timeoutMs: 300_000 });

  before(async function () {
    // Needs root (dockerd, network namespaces); under CI it never skips.
    if (process.getuid?.() !== 0 && process.env.CI !== 'true') {
      console.log('    (skipped: the Docker workspace suite needs root)');
      this.skip(); // not root, off CI: the suite needs dockerd and network namespaces
    }
    this.timeout(600_000);
    env = await createWorkspaceEnv();
    project = join(env.h.dir, 'projects', 'secrets');
    mkdirSync(join(project, '.vendetta'), { recursive: true });
    writeFileSync(join(project, '.vendetta', 'config.yaml'), config());
    writeFileSync(secretsPath(), `# for the test\nexport API_TOKEN="${SECRET}"\nPLAIN=two words # a comment\n`);
    git('init', '-q');
  });

  after(async function () {
    this.timeout(120_000);
    if (!env) return;
    await env.cli(['workspace', 'rm', 'secrets', '--force']).catch(() => undefined);
    await env.cleanup();
  });

  it('refuses a secrets file git tracks, saying how to untrack it, and makes nothing', async () => {
    git('add', '-A');
    const r = await up();
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /error: \.vendetta\/secrets\.env holds secrets and git tracks it/);
    assert.match(r.stderr, /hint: .*git rm --cached -- \.vendetta\/secrets\.env/);
    assert.ok(!(r.stdout + r.stderr).includes(SECRET));
    assert.deepEqual(await env.containers(), []);
    git('rm', '-q', '--cached', '.vendetta/secrets.env');
  });

  it('gives SSH logins (the real OpenSSH client, with and without a terminal), workspace exec and services the secrets; keeps them on the node only in a 0600 file', async () => {
    // Untracked and not ignored: the sync would send it, were it not the secrets file.
    const r = await up();
    assert.equal(r.code, 0, r.stderr);
    const login = await env.ssh(ALIAS, ['printf "%s|%s" "$API_TOKEN" "$PLAIN"']);
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, `${SECRET}|two words`);
    // An interactive login (a terminal and the login shell, as `ssh <alias>` gives a person) and
    // `workspace exec` have them too.
    const tty = await env.run(['ssh', '-F', join(env.h.home, 'ssh_config'), '-o', 'BatchMode=yes', '-tt', ALIAS], {
      input: 'echo "T=[$API_TOKEN] L=[$0]"; exit\n',
    });
    assert.equal(tty.code, 0, tty.stderr);
    assert.match(tty.stdout, new RegExp(`T=\\[${SECRET}\\] L=\\[-`), 'a login shell on a terminal has it');
    const exec = await env.cli(['workspace', 'exec', 'secrets', '--', 'sh', '-c', 'printf "%s" "$API_TOKEN"']);
    assert.equal(exec.code, 0, exec.stderr);
    assert.equal(exec.stdout, SECRET);
    // The service's own environment, compared inside the shell so the value enters no argv.
    const svc = await env.ssh(ALIAS, [
      'for p in /proc/[0-9]*; do [ "$(tr "\\0" " " < $p/cmdline 2>/dev/null)" = "sleep 3601 " ] || continue; ' +
        '[ "$(tr "\\0" "\\n" < $p/environ | sed -n "s/^API_TOKEN=//p")" = "$API_TOKEN" ] && echo service-has-it; done; ' +
        'stat -c "%a %U" ~/.ssh/environment; test -e /workspaces/secrets/.vendetta/secrets.env || echo not-synced',
    ]);
    assert.equal(svc.code, 0, svc.stderr);
    assert.deepEqual(svc.stdout.trim().split('\n'), ['service-has-it', '600 root', 'not-synced']);

    const nodeFile = join(env.h.home, 'local-agent', 'workspaces', 'secrets', 'secrets.env');
    const st = statSync(nodeFile);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(st.uid, process.getuid?.());
    assert.match(readFileSync(nodeFile, 'utf8'), new RegExp(`^API_TOKEN=${SECRET}$`, 'm'));
    assert.ok(existsSync(join(env.h.home, 'local-agent', 'workspaces', 'secrets', 'src', '.vendetta', 'config.yaml')));
  });

  it('is absent from ps (node and workspace), status and list --json, inspect, labels, logs, state and the synced tree', async () => {
    const ps = execFileSync('ps', ['-eww', '-o', 'args'], { maxBuffer: 64 * 1024 * 1024 }).toString();
    assert.ok(ps.includes('sleep 3601'), 'the service shows in the node’s ps');
    assert.ok(!ps.includes(SECRET), 'no argv on the node holds the secret');
    const inside = await env.ssh(ALIAS, ['cat /proc/[0-9]*/cmdline | tr "\\0" " "']);
    assert.ok(inside.stdout.includes('sleep 3601') && !inside.stdout.includes(SECRET), 'no argv in the workspace');

    for (const args of [
      ['workspace', 'status', 'secrets', '--json'],
      ['workspace', 'list', '--json'],
      ['workspace', 'status', 'secrets'],
    ]) {
      const r = await env.cli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!(r.stdout + r.stderr).includes(SECRET), args.join(' '));
    }
    const [c] = await env.containers();
    assert.ok(c, 'the workspace container');
    const inspect = JSON.stringify(
      (
        await env.dockerd.engine.json({
          method: 'GET',
          path: `/containers/${c.Names[0]!.slice(1)}/json`,
          accept: [200],
          what: 'inspect',
        })
      ).value,
    );
    assert.ok(inspect.includes('sleep') || inspect.includes('sshd'), 'a real inspect');
    assert.ok(
      !inspect.includes(SECRET) && !inspect.includes('API_TOKEN'),
      'not in the container’s config, env or labels',
    );
    assert.ok(!JSON.stringify(c.Labels).includes(SECRET));

    // Logs, state files, the synced tree, the coordinator's and the agent's homes: all files of the
    // test but the engine's storage hold it only in the laptop's file and the node's 0600 file.
    assert.deepEqual(filesHolding(env.h.dir, SECRET, [join(env.h.dir, 'dockerd')]), [
      join(env.h.home, 'local-agent', 'workspaces', 'secrets', 'secrets.env'),
      secretsPath(),
    ]);
  });

  it('errors met while the secrets are loaded do not carry them: a refused change, a bad line', async () => {
    writeFileSync(join(project, '.vendetta', 'config.yaml'), config('env: { CHANGED: "1" }'));
    const outdated = await up();
    assert.notEqual(outdated.code, 0);
    assert.match(outdated.stderr, /error: /);
    assert.ok(!(outdated.stdout + outdated.stderr).includes(SECRET), outdated.stderr);
    writeFileSync(join(project, '.vendetta', 'config.yaml'), config());

    writeFileSync(secretsPath(), `API_TOKEN=${SECRET}\nnot a line ${SECRET}\n`);
    const bad = await up();
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /error: \.vendetta\/secrets\.env:2: not a NAME=value line/);
    assert.ok(!(bad.stdout + bad.stderr).includes(SECRET), bad.stderr);
  });

  it('a changed secrets file reaches new logins; rm removes the node’s copy', async () => {
    const NEXT = `${SECRET}-next`;
    writeFileSync(secretsPath(), `API_TOKEN=${NEXT}\n`);
    const r = await up();
    assert.equal(r.code, 0, r.stderr);
    const login = await env.ssh(ALIAS, ['printf "%s|%s" "$API_TOKEN" "${PLAIN-unset}"']);
    assert.equal(login.stdout, `${NEXT}|unset`);
    const rm = await env.cli(['workspace', 'rm', 'secrets', '--force']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.ok(!existsSync(join(env.h.home, 'local-agent', 'workspaces', 'secrets')));
  });
});
