/**
 * What `up` and `config validate` say about a config, driven through the built CLI as a user
 * would, on the local node with a real dockerd: every warning shown, every error named, nothing
 * started on a config with errors, and only the providers this version can run offered.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceSummary } from '../../coordinator/protocol';
import { TEST_IMAGE } from '../infra/image';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';
import { requireRoot } from '../infra/sys';

describe('what up and config validate say about a config (built CLI, local node, real dockerd)', function () {
  let env: WorkspaceEnv;

  const project = (name: string, config: string): string => {
    const dir = join(env.h.dir, 'projects', name);
    mkdirSync(join(dir, '.vendetta'), { recursive: true });
    writeFileSync(join(dir, '.vendetta', 'config.yaml'), config);
    return dir;
  };

  before(async function () {
    requireRoot(this, 'this suite (dockerd, network namespaces)');
    this.timeout(600_000);
    env = await createWorkspaceEnv();
  });

  after(async function () {
    this.timeout(120_000);
    if (!env) return;
    await env.cli(['workspace', 'rm', 'warned', '--force']).catch(() => undefined);
    await env.cleanup();
  });

  it('up of a config with a misspelt top-level key names every error inside that block, and starts nothing', async () => {
    // The user's file: `servces:` hid `comand`, `5sec` and `apii`, and up went ahead without services.
    const dir = project(
      'typo',
      [
        'name: typo',
        `docker: { image: ${TEST_IMAGE} }`,
        'servces:',
        '  api:',
        '    comand: python3 -m http.server 8000',
        '    port: 8000',
        '    healthcheck: { http: "http://localhost:8000/", interval: 5sec }',
        '  web:',
        '    command: python3 -m http.server 8001',
        '    port: 8001',
        '    depends_on: [apii]',
        '',
      ].join('\n'),
    );
    const up = await env.cli(['up', dir]);
    assert.equal(up.code, 1, up.stderr);
    const file = join(dir, '.vendetta', 'config.yaml');
    for (const line of [
      `${file}:3:1: error: unknown key \`servces\`; did you mean \`services\`?`,
      `${file}:4:3: error: \`services.api\` has no \`command\`, which is required`,
      `${file}:5:5: warning: unknown key \`comand\` in \`services.api\`; did you mean \`command\`?`,
      `${file}:7:62: error: \`services.api.healthcheck.interval\` is not a duration: "5sec"`,
      `${file}:11:18: error: \`web\` depends on \`apii\`, which is not a service in this file; did you mean \`api\`?`,
      `error: ${file} has 4 errors (listed above); nothing was started`,
      `hint: Fix them and run up again; \`vendetta config validate ${dir}\` checks the config without starting anything.`,
    ])
      assert.ok(up.stderr.includes(line + '\n'), `missing ${JSON.stringify(line)} in:\n${up.stderr}`);
    assert.equal(up.stdout, '');
    const list = await env.cli(['workspace', 'list', '--json']);
    assert.deepEqual(
      (JSON.parse(list.stdout) as WorkspaceSummary[]).map((w) => w.name),
      [],
      'no workspace was recorded',
    );
    assert.deepEqual(await env.containers(), [], 'no container was made');

    const validate = await env.cli(['config', 'validate', dir]);
    assert.equal(validate.code, 1);
    assert.equal(validate.stdout.split('\n').filter((l) => / (error|warning): /.test(l)).length, 5, validate.stdout);
  });

  it('up prints every validator warning, then brings the workspace up', async function () {
    this.timeout(300_000);
    const dir = project('warned', `name: warned\ndocker:\n  image: ${TEST_IMAGE}\n  cpuss: 1\n`);
    const up = await env.cli(['up', dir]);
    assert.equal(up.code, 0, up.stderr);
    assert.ok(
      up.stderr.includes(
        `${join(dir, '.vendetta', 'config.yaml')}:4:3: warning: unknown key \`cpuss\` in \`docker\`; did you mean \`cpus\`?\n  hint: it is ignored;`,
      ),
      up.stderr,
    );
    assert.match(up.stdout, /^warned on local is running/m);
  });

  it('config validate of a path that does not exist is an error, a nodes.yaml too', async () => {
    const missing = join(env.h.dir, 'nowhere', 'nodes.yaml');
    const nodes = await env.cli(['config', 'validate', missing]);
    assert.equal(nodes.code, 1, nodes.stdout);
    assert.equal(nodes.stdout, `${missing}:1:1: error: no such file or folder\n  hint: check the path\n`);
    const folder = await env.cli(['config', 'validate', join(env.h.dir, 'nowhere')]);
    assert.equal(folder.code, 1, folder.stdout);
  });

  it('offers the three providers: a config asking for lxc passes the validator and goes to the node, which says what it lacks', async () => {
    const dir = project('box', 'name: box\nprovider: lxc\nlxc: { image: debian/bookworm }\n');
    const check = await env.cli(['config', 'validate', dir]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const up = await env.cli(['up', dir]);
    assert.equal(up.code, 1);
    assert.doesNotMatch(up.stderr, /is not available: this version of vendetta cannot run/);
    assert.match(up.stderr, /^error: .*(LXD|Incus)/m, 'the node answers: it has no LXD here');
    assert.match(up.stderr, /^hint: /m);
    const help = await env.cli(['up', '--help']);
    assert.match(help.stdout, /docker.*lxc.*qemu/s);
    const status = await env.cli(['node', 'test', 'local']);
    for (const p of ['docker', 'lxc', 'qemu']) assert.match(status.stdout, new RegExp(`provider ${p} `));
  });
});
