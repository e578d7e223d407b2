/**
 * Ctrl-C during `up`, and two `up`s of one workspace, as a user meets them: through the built CLI
 * on the local node with a real dockerd, the image built from the project's own slow Dockerfile so
 * the create step lasts long enough to be interrupted.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceStatus, WorkspaceSummary } from '../../coordinator/protocol';
import { TEST_IMAGE } from '../infra/image';
import { waitUntil } from './coordinatorHarness';
import { startLive, type LiveCommand } from './servicesHarness';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';
import { requireRoot } from '../infra/sys';

describe('Ctrl-C during up, and a second up of the same workspace (built CLI, real dockerd)', function () {
  let env: WorkspaceEnv;
  const live: LiveCommand[] = [];
  const liveCli = (args: string[]) => {
    const c = startLive([...env.dockerd.nsenter, process.execPath, join(env.h.dir, 'bin', 'vendetta.js'), ...args], {
      ...process.env,
      VENDETTA_HOME: env.h.home,
      DOCKER_HOST: env.dockerd.host,
      SSH_AUTH_SOCK: '',
    });
    live.push(c);
    return c;
  };
  /** A project whose image takes `seconds` to build, with one service. */
  const project = (name: string, seconds: number): string => {
    const dir = join(env.h.dir, 'projects', name);
    mkdirSync(join(dir, '.vendetta'), { recursive: true });
    writeFileSync(
      join(dir, 'Dockerfile'),
      `FROM ${TEST_IMAGE}\nRUN sleep ${seconds} && echo ${name} > /etc/${name}-built\n`,
    );
    writeFileSync(join(dir, 'README.md'), `# ${name}\n`);
    writeFileSync(
      join(dir, '.vendetta', 'config.yaml'),
      `name: ${name}\ndocker:\n  build: { context: ., dockerfile: Dockerfile }\nservices:\n  quiet:\n    command: sleep 100000\n`,
    );
    return dir;
  };
  const list = async () => JSON.parse((await env.cli(['workspace', 'list', '--json'])).stdout) as WorkspaceSummary[];

  before(async function () {
    requireRoot(this, 'this suite (dockerd, network namespaces)');
    this.timeout(600_000);
    env = await createWorkspaceEnv();
  });

  after(async function () {
    this.timeout(120_000);
    for (const c of live) await c.stop('SIGKILL').catch(() => undefined);
    if (!env) return;
    for (const w of ['cut', 'twice']) await env.cli(['workspace', 'rm', w, '--force']).catch(() => undefined);
    await env.cleanup();
  });

  it('Ctrl-C during up says what was left, list and status mark the workspace unfinished, and the next up finishes it', async function () {
    this.timeout(400_000);
    const dir = project('cut', 12);
    const up = liveCli(['up', dir]);
    // Inside the create step, while the image builds.
    await waitUntil(() => /^\[3\/6\] /m.test(up.stderr()), 120_000, 'up to reach step 3');
    await new Promise((r) => setTimeout(r, 1500));
    up.child.kill('SIGINT');
    const code = await up.exited;
    assert.equal(code, 130, up.stderr());
    const err = up.stderr();
    assert.match(err, /^interrupted: the up stops after its current step \(Ctrl-C again leaves at once\)$/m);
    assert.match(err, /^error: The up of cut on local was interrupted at step 3\/6 \(.+\)$/m);
    assert.match(
      err,
      new RegExp(
        `^hint: Not done yet: the workspace on local may be half-made, its ssh_config block, its code \\(partly sent at most\\), its services\\. \`vendetta up ${dir} --name cut\` finishes it; \`vendetta workspace rm cut --force\` removes what was made\\.$`,
        'm',
      ),
    );
    assert.equal(up.stdout(), '', 'never "is running"');

    // What a later command sees: not a plain "running" workspace.
    const row = (await list()).find((w) => w.name === 'cut');
    assert.ok(row?.unfinished, JSON.stringify(row));
    assert.equal(row.unfinished.step, 3);
    const table = await env.cli(['workspace', 'list']);
    assert.match(table.stdout, /^cut +local +docker +\S+ \(up unfinished\) /m);
    assert.match(
      table.stdout,
      /^cut \(local\): the up begun .+ has not finished: it reached step 3\/6 \(.+\)\n {2}hint: if it was interrupted, `vendetta up .+ --name cut` finishes it$/m,
    );
    const status = await env.cli(['workspace', 'status', 'cut']);
    assert.match(status.stdout, /^note: the up begun .+ has not finished: it reached step 3\/6/m);
    const sshConfig = join(env.h.home, 'ssh_config');
    assert.ok(
      !existsSync(sshConfig) || !readFileSync(sshConfig, 'utf8').includes('Host cut.local.vendetta'),
      'no ssh_config block yet',
    );

    const again = await env.cli(['up', dir], { timeoutMs: 300_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^cut on local is running/m);
    const done = (await list()).find((w) => w.name === 'cut');
    assert.equal(done?.unfinished, undefined, 'no longer marked');
    assert.ok(readFileSync(join(env.h.home, 'ssh_config'), 'utf8').includes('Host cut.local.vendetta'));
    const readme = await env.ssh('cut.local.vendetta', ['cat', '/workspaces/cut/README.md', '/etc/cut-built']);
    assert.equal(readme.stdout, '# cut\ncut\n', readme.stderr);
    const s = JSON.parse((await env.cli(['workspace', 'status', 'cut', '--json'])).stdout) as WorkspaceStatus;
    assert.deepEqual(
      s.services?.map((x) => x.name),
      ['quiet'],
    );
  });

  it('a second up of the same workspace says it waits for the first, waits, and then finds it there', async function () {
    this.timeout(400_000);
    const dir = project('twice', 10);
    const first = liveCli(['up', dir]);
    await waitUntil(() => /^\[3\/6\] /m.test(first.stderr()), 120_000, 'the first up to reach step 3');
    const second = liveCli(['up', dir]);
    // Said while it waits, not only once the wait is over.
    await waitUntil(
      () => /Waiting for/.test(second.stderr()) || second.child.exitCode !== null,
      60_000,
      'the second up to say it waits',
    );
    assert.match(second.stderr(), /^\[1\/6\] Waiting for the `up` of twice on local that is running to finish…$/m);
    assert.equal(first.child.exitCode, null, 'the first is still going');
    assert.equal(await first.exited, 0, first.stderr());
    assert.equal(await second.exited, 0, second.stderr());
    assert.match(
      second.stderr(),
      /^\[1\/6\] Waiting for the `up` of twice on local that is running to finish \d+\.\d s\n\[2\/6\] /m,
    );
    assert.match(first.stdout(), /^twice on local is running \(created;/m);
    // The image is built from the project: the create runs twice (before and after the build
    // context is sent), and no counter on the way, outer or the agent's, goes backwards.
    assert.match(first.stderr(), /^\[3\/6\] Syncing the build context /m);
    const counters = [...first.stderr().matchAll(/^\[(\d+)\/6\] .*?(?:\((\d+)\/\d+\))?(?:…| \d+\.\d s)$/gm)].map(
      (m) => [Number(m[1]), Number(m[2] ?? 0)] as const,
    );
    assert.ok(counters.length >= 6, first.stderr());
    counters.reduce((prev, cur) => {
      assert.ok(
        cur[0] > prev[0] || (cur[0] === prev[0] && cur[1] >= prev[1]),
        `the count went back from ${prev.join('.')} to ${cur.join('.')}:\n${first.stderr()}`,
      );
      return cur;
    });
    assert.match(second.stdout(), /^twice on local is running \(already there;/m);
  });
});
