/**
 * `up` follows the change, as a user meets it through the built CLI on the local node with a real
 * dockerd: a built image never lands on the image the project did not name, and a config that no
 * longer matches the container (env, build inputs) is said, not ignored, until `up --recreate`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkspaceStatus, WorkspaceUpResult } from '../../coordinator/protocol';
import { TEST_IMAGE } from '../infra/image';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';

function parse<T>(r: { code: number; stdout: string; stderr: string }, what: string): T {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

describe('up follows a changed config: the base image is never overwritten, a changed container is said and recreated on request', function () {
  let env: WorkspaceEnv;
  const names = ['built', 'envy'];

  before(async function () {
    // Needs root (dockerd, network namespaces); under CI it never skips.
    if (process.getuid?.() !== 0 && process.env.CI !== 'true') {
      console.log('    (skipped: the Docker workspace suite needs root)');
      this.skip(); // not root, off CI
    }
    this.timeout(600_000);
    env = await createWorkspaceEnv();
  });

  after(async function () {
    this.timeout(120_000);
    if (!env) return;
    for (const w of names) await env.cli(['workspace', 'rm', w, '--force']).catch(() => undefined);
    await env.cleanup();
  });

  const imageId = async (ref: string): Promise<string | undefined> => {
    const r = await env.dockerd.engine.json({
      method: 'GET',
      path: `/images/${ref}/json`,
      accept: [200, 404],
      what: 'inspect an image',
    });
    return r.status === 200 ? (r.value as { Id: string }).Id : undefined;
  };
  const containerId = async (name: string): Promise<string> => {
    const c = (await env.containers()).find((x) => x.Labels['dev.vendetta.workspace'] === name) as
      | { Id?: string }
      | undefined;
    assert.ok(c?.Id, `no container for ${name}`);
    return c.Id;
  };
  const project = (name: string, files: Record<string, string>): string => {
    const dir = join(env.h.dir, 'projects', name);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return dir;
  };

  it('a project with docker.build and no image: the base image keeps its id, the built one is vendetta-ws/<name>:<hash>; a changed Dockerfile is outdated until up --recreate', async function () {
    this.timeout(600_000);
    const base = await imageId(TEST_IMAGE);
    assert.ok(base, `${TEST_IMAGE} is there before`);
    const dir = project('built', {
      '.vendetta/config.yaml': 'name: built\ndocker:\n  build: { context: . }\n',
      Dockerfile: `FROM ${TEST_IMAGE}\nRUN echo one > /etc/built-marker\n`,
    });
    parse<WorkspaceUpResult>(await env.cli(['workspace', 'up', dir, '--json']), 'up built');
    assert.equal(await imageId(TEST_IMAGE), base, 'the shared base image is untouched');
    const first = parse<WorkspaceStatus>(await env.cli(['workspace', 'status', 'built', '--json']), 'status');
    assert.match(first.image ?? '', /^vendetta-ws\/built:[0-9a-f]{16}$/);
    assert.equal((await env.ssh('built.local.vendetta', ['cat', '/etc/built-marker'])).stdout, 'one\n');
    const touched = await env.ssh('built.local.vendetta', ['touch /root/outside /workspaces/built/inside']);
    assert.equal(touched.code, 0, touched.stdout + touched.stderr);
    const before = await containerId('built');

    writeFileSync(join(dir, 'Dockerfile'), `FROM ${TEST_IMAGE}\nRUN echo two > /etc/built-marker\n`);
    const refused = await env.cli(['workspace', 'up', dir]);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.doesNotMatch(refused.stdout, /already there/);
    assert.match(
      refused.stderr,
      /error: Workspace built no longer matches its config: build inputs \(the Dockerfile or the files of its context\) [0-9a-f]{16} → [0-9a-f]{16}/,
    );
    assert.match(
      refused.stderr,
      /hint: `vendetta workspace up --recreate` makes it again from the config\. It keeps the workspace folder \/workspaces\/built/,
    );
    assert.equal(await containerId('built'), before, 'the old container stays until asked');

    const again = await env.cli(['workspace', 'up', dir, '--recreate']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^built on local is running \(recreated: only \/workspaces\/built was kept/m);
    assert.notEqual(await containerId('built'), before);
    const now = parse<WorkspaceStatus>(await env.cli(['workspace', 'status', 'built', '--json']), 'status');
    assert.match(now.image ?? '', /^vendetta-ws\/built:[0-9a-f]{16}$/);
    assert.notEqual(now.image, first.image);
    const seen = await env.ssh('built.local.vendetta', [
      'cat /etc/built-marker; ls /workspaces/built/inside; ls /root/outside 2>&1 || true',
    ]);
    assert.equal(seen.code, 0, seen.stderr);
    assert.match(seen.stdout, /^two\n\/workspaces\/built\/inside\n.*No such file/);
    assert.equal(await imageId(TEST_IMAGE), base, 'the shared base image is still untouched');
  });

  it('a changed env: up says what differs and keeps the container; up --recreate applies it and keeps the folder', async function () {
    this.timeout(300_000);
    const dir = project('envy', {
      '.vendetta/config.yaml': `name: envy\ndocker: { image: "${TEST_IMAGE}" }\nenv: { GREETING: hello }\n`,
    });
    parse<WorkspaceUpResult>(await env.cli(['workspace', 'up', dir, '--json']), 'up envy');
    const echo = () =>
      env.cli(['workspace', 'exec', 'envy', '--', 'sh', '-c', 'echo "$GREETING"; ls /workspaces/envy/kept']);
    assert.equal((await env.cli(['workspace', 'exec', 'envy', '--', 'touch', '/workspaces/envy/kept'])).code, 0);
    const before = await containerId('envy');

    writeFileSync(
      join(dir, '.vendetta', 'config.yaml'),
      `name: envy\ndocker: { image: "${TEST_IMAGE}", memory: 512m }\nenv: { GREETING: bonjour }\n`,
    );
    const refused = await env.cli(['workspace', 'up', dir]);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(
      refused.stderr,
      /error: Workspace envy no longer matches its config: memory \(bytes\) not set → 536870912; env GREETING "hello" → "bonjour"\n/,
    );
    assert.match(refused.stderr, /anything outside that folder \(installed packages, home folders, \/tmp\) is lost/);
    assert.equal((await echo()).stdout, 'hello\n/workspaces/envy/kept\n', 'still the old container');
    assert.equal(await containerId('envy'), before);

    const again = parse<WorkspaceUpResult>(
      await env.cli(['workspace', 'up', dir, '--recreate', '--json']),
      'up --recreate',
    );
    assert.deepEqual([again.state, again.existed, again.recreated], ['running', true, true]);
    assert.notEqual(await containerId('envy'), before);
    assert.equal((await echo()).stdout, 'bonjour\n/workspaces/envy/kept\n');
    assert.equal((await env.ssh('envy.local.vendetta', ['true'])).code, 0, 'the pinned host key still fits');
    const quiet = await env.cli(['workspace', 'up', dir]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.match(quiet.stdout, /already there/);
  });
});
