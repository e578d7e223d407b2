import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceUpResult } from '../../coordinator/protocol';
import { devcontainerId } from '../../coordinator/config/devcontainerVars';
import { TEST_IMAGE } from '../infra/image';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';

/** A project folder with these files (paths relative to it). */
function project(root: string, files: Record<string, string>): string {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

const until = async (what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe('devcontainer.json projects on a real dockerd, reached with the real OpenSSH client', function () {
  let env: WorkspaceEnv;
  const made: string[] = [];

  before(async function () {
    if (process.getuid?.() !== 0 && process.env.CI !== 'true') {
      console.log('    (skipped: the Docker workspace suite needs root)');
      this.skip(); // not root, off CI: the suite needs dockerd and network namespaces
    }
    this.timeout(600_000);
    env = await createWorkspaceEnv();
  });

  after(async function () {
    this.timeout(120_000);
    if (!env) return;
    for (const w of made) await env.cli(['workspace', 'rm', w, '--force']).catch(() => undefined);
    await env.cleanup();
  });

  it('builds the Dockerfile with its args and target, and runs every lifecycle command in order, in each form', async function () {
    this.timeout(300_000);
    made.push('dc-build');
    const dir = project(join(env.h.dir, 'projects', 'dc-build'), {
      '.devcontainer/devcontainer.json': JSON.stringify({
        name: 'dc-build',
        build: { dockerfile: 'Dockerfile', context: '..', args: { GREETING: 'hello from a build arg' }, target: 'dev' },
        // On this machine, in the project folder, before the workspace exists: its file is synced.
        initializeCommand: ['sh', '-c', 'echo "initialize ran in $(basename "$PWD")" > init-marker.txt'],
        onCreateCommand: 'echo onCreate >> /tmp/lifecycle.log; echo onCreate says hello',
        updateContentCommand: ['sh', '-c', 'echo updateContent >> /tmp/lifecycle.log'],
        postCreateCommand: {
          one: 'echo postCreate-one >> /tmp/lifecycle.log',
          two: ['sh', '-c', 'echo postCreate-two >> /tmp/lifecycle.log'],
        },
        postStartCommand: 'echo postStart >> /tmp/lifecycle.log',
        postAttachCommand: 'echo postAttach >> /tmp/attach.log',
      }),
      '.devcontainer/Dockerfile': [
        `FROM ${TEST_IMAGE} AS base`,
        'ARG GREETING=unset',
        'RUN echo "base: $GREETING" > /etc/greeting',
        'FROM base AS dev',
        'ARG GREETING',
        'RUN echo "dev: $GREETING" >> /etc/greeting',
        'FROM base AS other',
        'RUN echo other > /etc/other-stage',
        '',
      ].join('\n'),
      'README.md': 'a devcontainer project\n',
    });
    const up = await env.cli(['up', dir], { timeoutMs: 280_000 });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /Running initializeCommand here/);
    assert.match(up.stderr, /Step \d+\/\d+ : ARG GREETING/, 'the build steps are shown');
    assert.match(up.stderr, /onCreateCommand: onCreate says hello/, 'hook output is streamed');

    const alias = 'dc-build.local.vendetta';
    const cat = await env.ssh(alias, [
      'cat',
      '/etc/greeting',
      '/tmp/lifecycle.log',
      '/workspaces/dc-build/init-marker.txt',
    ]);
    assert.equal(cat.code, 0, cat.stderr);
    const lines = cat.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 2), ['base: hello from a build arg', 'dev: hello from a build arg']);
    const hooks = lines.slice(2, 7);
    assert.deepEqual(
      [hooks[0], hooks[1], [hooks[2], hooks[3]].sort(), hooks[4]],
      ['onCreate', 'updateContent', ['postCreate-one', 'postCreate-two'], 'postStart'],
    );
    assert.equal(lines[7], 'initialize ran in dc-build');
    assert.equal(
      (await env.ssh(alias, ['test', '!', '-e', '/etc/other-stage'])).code,
      0,
      'only the target stage is built',
    );
    // The ssh above came through the generated config's ProxyCommand: an attach.
    await until('postAttach ran', async () =>
      (await env.ssh(alias, ['cat', '/tmp/attach.log'])).stdout.includes('postAttach'),
    );

    // A second up of the running workspace: nothing is made again, so no lifecycle command runs again.
    const again = await env.cli(['up', dir, '--json']);
    const r = JSON.parse(again.stdout) as WorkspaceUpResult;
    assert.equal(r.existed, true);
    const after = await env.ssh(alias, ['cat', '/tmp/lifecycle.log']);
    assert.equal(after.stdout.trim().split('\n').length, 5, 'the create commands ran once');
  });

  it('stops at a failing lifecycle command, names it, and keeps the workspace reachable', async function () {
    this.timeout(120_000);
    made.push('dc-fail');
    const dir = project(join(env.h.dir, 'projects', 'dc-fail'), {
      '.devcontainer/devcontainer.json': JSON.stringify({
        name: 'dc-fail',
        image: TEST_IMAGE,
        postCreateCommand: { fine: 'true', broken: 'echo broken-output >&2; exit 7' },
        postStartCommand: 'touch /tmp/post-start-ran',
      }),
    });
    const up = await env.cli(['up', dir], { timeoutMs: 110_000 });
    assert.equal(up.code, 1, up.stderr);
    assert.match(up.stderr, /postCreateCommand: broken: broken-output/);
    assert.match(up.stderr, /^error: postCreateCommand exited with 7: broken: echo broken-output >&2; exit 7$/m);
    assert.match(up.stderr, /^hint: .*vendetta workspace logs dc-fail postCreate/m);
    const ls = await env.ssh('dc-fail.local.vendetta', ['test', '-e', '/tmp/post-start-ran']);
    assert.equal(ls.code, 1, `postStart must not run after a failed postCreate: ${ls.stderr}`);
  });

  it('makes the container with the mounts, runArgs, capAdd, securityOpt and init it names; substitutes variables, keeps containerEnv and remoteEnv apart, honours workspaceMount and merges the VS Code settings', async function () {
    this.timeout(150_000);
    made.push('dc-run');
    const nodeData = join(env.h.dir, 'node-data');
    mkdirSync(nodeData, { recursive: true });
    writeFileSync(join(nodeData, 'hello.txt'), 'from the node\n');
    const dir = project(join(env.h.dir, 'projects', 'dc-run'), {
      '.devcontainer/devcontainer.json': JSON.stringify({
        name: 'dc-run',
        image: TEST_IMAGE,
        mounts: [
          'source=dc-cache,target=/cache,type=volume',
          { type: 'bind', source: nodeData, target: '/data', readonly: true },
          'type=tmpfs,target=/scratch',
        ],
        runArgs: [
          '--cap-add=SYS_PTRACE',
          '--shm-size=128m',
          '--ulimit',
          'nofile=1024:2048',
          '--env',
          'FROM_RUNARGS=yes',
          '--label',
          'team=web',
          '--init',
        ],
        securityOpt: ['seccomp=unconfined'],
        // The fields below share this one workspace's life (CI time): each shows its effect.
        workspaceMount: 'type=bind,source=${localWorkspaceFolder},target=/code',
        overrideCommand: true,
        containerEnv: {
          WS: '${containerWorkspaceFolder}',
          WS_BASE: '${containerWorkspaceFolderBasename}',
          LOCAL: '${localWorkspaceFolder}',
          LOCAL_BASE: '${localWorkspaceFolderBasename}',
          TEAM: '${localEnv:DC_TEAM:none}',
          DC_ID: '${devcontainerId}',
        },
        remoteEnv: { LOGIN_ONLY: 'yes', PATH: '${containerEnv:PATH}:/opt/dc/bin' },
        postCreateCommand: 'env > /tmp/hook-env',
        customizations: { vscode: { settings: { 'editor.tabSize': 3 }, extensions: ['dbaeumer.vscode-eslint'] } },
      }),
    });
    const configFile = join(dir, '.devcontainer', 'devcontainer.json');
    const validate = await env.cli(['config', 'validate', dir]);
    assert.match(
      validate.stdout + validate.stderr,
      new RegExp(`bind-mounts ${nodeData} of the node at /data \\(read-only\\)`),
    );
    // localEnv is the environment of the CLI that runs up, not the (older) coordinator's.
    const up = await env.cli(['up', dir, '--json'], { timeoutMs: 110_000, env: { DC_TEAM: 'web' } });
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual((JSON.parse(up.stdout) as WorkspaceUpResult).vscodeExtensions, ['dbaeumer.vscode-eslint']);
    const alias = 'dc-run.local.vendetta';
    const sh = async (script: string) => env.ssh(alias, ['sh', '-c', JSON.stringify(script)]);
    assert.equal((await sh('cat /data/hello.txt')).stdout, 'from the node\n');
    const ro = await sh('touch /data/new 2>&1');
    assert.notEqual(ro.code, 0, 'the bind mount is read-only');
    assert.match(ro.stdout, /Read-only file system/);
    assert.equal((await sh('echo kept > /cache/f && cat /cache/f')).stdout, 'kept\n');
    const mounts = (await sh('cat /proc/mounts')).stdout;
    assert.match(mounts, /^tmpfs \/scratch tmpfs /m);
    assert.match(mounts, /^shm \/dev\/shm tmpfs .*size=131072k/m);
    assert.match((await sh('grep "Max open files" /proc/self/limits')).stdout, /Max open files\s+1024\s+2048/);
    assert.equal((await sh('cat /proc/1/comm')).stdout, 'docker-init\n', 'init: an init process is PID 1');
    const capBnd = /CapBnd:\s+([0-9a-f]+)/.exec((await sh('grep CapBnd /proc/self/status')).stdout)?.[1];
    assert.ok(capBnd && (BigInt(`0x${capBnd}`) & (1n << 19n)) !== 0n, `SYS_PTRACE (bit 19) in ${capBnd}`);
    assert.match((await sh('grep Seccomp: /proc/self/status')).stdout, /Seccomp:\s+0/, 'seccomp=unconfined');
    const c = (await env.containers()).find((x) => x.Labels['dev.vendetta.workspace'] === 'dc-run');
    assert.equal(c?.Labels.team, 'web');
    const engine = await env.dockerd.engine.json({
      method: 'GET',
      path: `/containers/${encodeURIComponent(c!.Names[0]!.slice(1))}/json`,
      accept: [200],
      what: 'inspect',
    });
    const containerEnv = (engine.value as { Config: { Env: string[] } }).Config.Env;
    assert.ok(containerEnv.includes('FROM_RUNARGS=yes'), 'runArgs --env reaches the container');
    for (const e of [
      'WS=/code',
      'WS_BASE=code',
      `LOCAL=${dir}`,
      'LOCAL_BASE=dc-run',
      'TEAM=web',
      `DC_ID=${devcontainerId(dir, configFile)}`,
    ])
      assert.ok(containerEnv.includes(e), `${e} in ${containerEnv.join(' ')}`);
    assert.ok(!containerEnv.some((e) => e.startsWith('LOGIN_ONLY=')), 'remoteEnv is not in the container');
    const imagePath = containerEnv.find((e) => e.startsWith('PATH='))!.slice(5);
    assert.ok(!imagePath.includes('/opt/dc/bin'));
    // An SSH login (through the generated config) and a lifecycle command see remoteEnv, PATH resolved on the node.
    for (const seen of [(await sh('env')).stdout, (await sh('cat /tmp/hook-env')).stdout]) {
      assert.match(seen, /^LOGIN_ONLY=yes$/m);
      assert.ok(seen.split('\n').includes(`PATH=${imagePath}:/opt/dc/bin`), seen);
      assert.match(seen, /^TEAM=web$/m);
    }
    assert.equal(
      (await sh('test -f /code/.devcontainer/devcontainer.json && echo project-here')).stdout,
      'project-here\n',
      'workspaceMount put the project at /code',
    );
    const settingsFile = '/root/.vscode-server/data/Machine/settings.json';
    assert.equal(JSON.parse((await sh(`cat ${settingsFile}`)).stdout)['editor.tabSize'], 3);
    // The remote's own settings stay (comments too) when a later up merges the config's in again.
    await sh(`printf '{\\n  // mine\\n  "user.kept": 1,\\n  "editor.tabSize": 8\\n}\\n' > ${settingsFile}`);
    const again = await env.cli(['up', dir], { timeoutMs: 60_000, env: { DC_TEAM: 'web' } });
    assert.equal(again.code, 0, again.stderr);
    const merged = (await sh(`cat ${settingsFile}`)).stdout;
    assert.match(merged, /\/\/ mine/);
    assert.match(merged, /"user\.kept": 1/);
    assert.match(merged, /"editor\.tabSize": 3/);
  });

  it('brings up each of two configs under .devcontainer/*/ with --config, as two workspaces', async function () {
    this.timeout(180_000);
    made.push('two-node', 'two-py');
    const dir = project(join(env.h.dir, 'projects', 'two'), {
      '.devcontainer/node/devcontainer.json': JSON.stringify({
        image: TEST_IMAGE,
        postCreateCommand: 'echo node > /tmp/which',
      }),
      '.devcontainer/py/devcontainer.json': `// comments are allowed\n${JSON.stringify({ build: { dockerfile: 'Dockerfile', args: { FLAVOUR: 'py' } }, postCreateCommand: ['sh', '-c', 'cat /etc/flavour > /tmp/which'] })}`,
      '.devcontainer/py/Dockerfile': `FROM ${TEST_IMAGE}\nARG FLAVOUR\nRUN echo "$FLAVOUR" > /etc/flavour\n`,
    });
    const neither = await env.cli(['up', dir]);
    assert.equal(neither.code, 1);
    assert.match(
      neither.stderr,
      /this project has 2 devcontainer configs: \.devcontainer\/node\/devcontainer\.json, \.devcontainer\/py\/devcontainer\.json/,
    );
    assert.match(neither.stderr, /--config/);
    for (const flavour of ['node', 'py']) {
      const up = await env.cli(
        ['up', dir, '--config', join(dir, '.devcontainer', flavour, 'devcontainer.json'), '--json'],
        { timeoutMs: 170_000 },
      );
      assert.equal(up.code, 0, up.stderr);
      assert.equal((JSON.parse(up.stdout) as WorkspaceUpResult).name, `two-${flavour}`);
      const which = await env.ssh(`two-${flavour}.local.vendetta`, ['cat', '/tmp/which']);
      assert.equal(which.code, 0, which.stderr);
      assert.equal(which.stdout, `${flavour}\n`);
    }
    const outside = await env.cli(['up', dir, '--config', join(env.h.dir, 'elsewhere.json')]);
    assert.equal(outside.code, 1);
    assert.match(outside.stderr, /^error: The config .*elsewhere\.json is not inside the project/m);
  });

  it('runs initializeCommand before anything is made, and a failure leaves nothing on the node', async function () {
    this.timeout(60_000);
    const dir = project(join(env.h.dir, 'projects', 'dc-init'), {
      '.devcontainer.json': JSON.stringify({
        name: 'dc-init',
        image: TEST_IMAGE,
        initializeCommand: 'echo checking tools; exit 3',
      }),
    });
    const up = await env.cli(['up', dir]);
    assert.equal(up.code, 1, up.stderr);
    assert.match(up.stderr, /initializeCommand: checking tools/);
    assert.match(up.stderr, /^error: initializeCommand exited with 3: echo checking tools; exit 3$/m);
    assert.ok(!(await env.containers()).some((c) => c.Labels['dev.vendetta.workspace'] === 'dc-init'), 'no container');
    assert.equal(existsSync(join(env.h.home, 'local-agent', 'workspaces', 'dc-init')), false);
  });
});
