/**
 * Workspace images pulled from a registry, through the built CLI on the local node (a private
 * dockerd in its own network namespace): two real registries (Debian's docker-registry) on the
 * namespace's loopback, one open and one behind basic auth. Credentials come only from the node
 * side: the agent's $DOCKER_CONFIG/config.json (`auths`, or a `credHelpers` helper on its PATH).
 * Each pull starts from an engine without the image; the errors a person meets are checked by
 * their words: a missing image, a refused pull, a wrong platform.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../infra/image';
import { startRegistry, type Registry } from '../infra/registry';
import { requireCommands } from '../infra/sys';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';

const USER = { name: 'alice', password: 's3cret-Pw' };

describe("workspace images pulled from a registry with the node's credentials (built CLI, real registries)", function () {
  let env: WorkspaceEnv;
  let root: string;
  let open: Registry | undefined;
  let locked: Registry | undefined;
  /** The agent's Docker config folder (its DOCKER_CONFIG) and the PATH folder with its credential helper. */
  let agentDocker: string;
  let helperBin: string;
  const numbers: Record<string, number> = {};

  /** The docker CLI against the test engine, as the person publishing images (its own config). */
  function docker(args: string[], input?: string): string {
    const r = spawnSync('docker', args, {
      input,
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env,
        DOCKER_HOST: env.dockerd.host,
        DOCKER_CONFIG: join(root, 'publisher'),
        DOCKER_BUILDKIT: '0',
      },
    });
    assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  function project(name: string, image: string): string {
    const dir = join(root, 'projects', name);
    mkdirSync(join(dir, '.vendetta'), { recursive: true });
    writeFileSync(
      join(dir, '.vendetta', 'config.yaml'),
      `name: ${name}\nprovider: docker\ndocker: { image: "${image}" }\n`,
    );
    return dir;
  }

  const up = (name: string, image: string) =>
    env.cli(['workspace', 'up', project(name, image), '--node', 'local'], { timeoutMs: 240_000 });
  const agentConfig = (config: unknown) => writeFileSync(join(agentDocker, 'config.json'), JSON.stringify(config));
  const absent = (ref: string) =>
    spawnSync('docker', ['rmi', '-f', ref], { env: { ...process.env, DOCKER_HOST: env.dockerd.host } });

  before(async function () {
    if (process.getuid?.() !== 0 && process.env.CI !== 'true') {
      console.log('    (skipped: the registry suite needs root)');
      this.skip(); // not root, off CI
    }
    requireCommands(this, 'the registry suite', ['docker-registry', 'htpasswd', 'docker']);
    this.timeout(600_000);
    root = mkdtempSync(join(tmpdir(), 'vendetta-pull-'));
    agentDocker = join(root, 'agent-docker');
    helperBin = join(root, 'bin');
    mkdirSync(agentDocker, { recursive: true });
    mkdirSync(helperBin, { recursive: true });
    env = await createWorkspaceEnv({
      env: { DOCKER_CONFIG: agentDocker, PATH: `${helperBin}:${process.env.PATH ?? '/usr/bin:/bin'}` },
    });
    const netns = env.dockerd.netns!;
    open = await startRegistry({ dir: join(root, 'reg-open'), netns, port: 5000 });
    locked = await startRegistry({ dir: join(root, 'reg-auth'), netns, port: 5001, user: USER });
    await ensureBusyboxImage(env.dockerd.socket);
    // A layer of its own on top of busybox, so that a pull has something to download.
    const own = join(root, 'own');
    mkdirSync(own, { recursive: true });
    writeFileSync(join(own, 'blob'), randomBytes(3_000_000));
    writeFileSync(join(own, 'Dockerfile'), `FROM ${BUSYBOX_IMAGE}\nCOPY blob /blob\n`);
    docker(['build', '-q', '-t', `${open.host}/vt/busybox:1`, own]);
    const t0 = Date.now();
    docker(['push', `${open.host}/vt/busybox:1`]);
    numbers.pushMs = Date.now() - t0;
    docker(['login', '-u', USER.name, '--password-stdin', locked.host], USER.password);
    docker(['tag', `${open.host}/vt/busybox:1`, `${locked.host}/vt/busybox:1`]);
    docker(['push', `${locked.host}/vt/busybox:1`]);
    // An image for another platform (the legacy builder sets it from --platform).
    const ctx = join(root, 'arm');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'f'), 'arm\n');
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY f /f\n');
    const build = spawnSync(
      'docker',
      ['build', '-q', '--platform', 'linux/arm64', '-t', `${open.host}/vt/arm:1`, ctx],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          DOCKER_HOST: env.dockerd.host,
          DOCKER_BUILDKIT: '0',
          DOCKER_CONFIG: join(root, 'publisher'),
        },
      },
    );
    assert.equal(build.status, 0, build.stderr);
    docker(['push', `${open.host}/vt/arm:1`]);
    for (const ref of [`${open.host}/vt/busybox:1`, `${locked.host}/vt/busybox:1`, `${open.host}/vt/arm:1`])
      absent(ref);
  });

  after(async function () {
    this.timeout(120_000);
    if (env) {
      for (const name of ['pulled', 'authed', 'helped'])
        await env.cli(['workspace', 'rm', name, '--force']).catch(() => undefined);
      await env.cleanup();
    }
    await open?.stop();
    await locked?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
    if (Object.keys(numbers).length) console.log(`    measured: ${JSON.stringify(numbers)}`);
  });

  it('pulls an image that is not on the node, with layer progress, and the workspace answers over SSH', async function () {
    this.timeout(300_000);
    const r = await up('pulled', `${open!.host}/vt/busybox:1`);
    numbers.upWithPullMs = r.ms;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Pulling the image 127\.0\.0\.1:5000\/vt\/busybox:1 \(no credentials\)/);
    assert.match(r.stderr, /Pulling the image 127\.0\.0\.1:5000\/vt\/busybox:1: [01]\/2 layers/);
    assert.match(r.stderr, /Pulling the image 127\.0\.0\.1:5000\/vt\/busybox:1: 2\/2 layers, \d+\.\d of \d+\.\d MB/);
    const ssh = await env.ssh('pulled.local.vendetta', ['echo', 'pulled']);
    assert.equal(ssh.code, 0, ssh.stderr);
    assert.equal(ssh.stdout, 'pulled\n');
  });

  it('says which image is missing from which registry, and leaves nothing behind', async function () {
    this.timeout(120_000);
    const r = await up('missing', `${open!.host}/vt/nope:1`);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /^error: The image 127\.0\.0\.1:5000\/vt\/nope:1 is not in the registry 127\.0\.0\.1:5000: manifest for 127\.0\.0\.1:5000\/vt\/nope:1 not found/m,
    );
    assert.match(r.stderr, /^hint: Check the name and tag in the workspace config/m);
    assert.equal((await env.containers()).filter((c) => c.Labels['dev.vendetta.workspace'] === 'missing').length, 0);
  });

  it('a registry behind basic auth refuses a node without credentials, with a hint to log in on the node', async function () {
    this.timeout(120_000);
    rmSync(join(agentDocker, 'config.json'), { force: true });
    const r = await up('refused', `${locked!.host}/vt/busybox:1`);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /^error: The registry 127\.0\.0\.1:5001 refused to let this node pull 127\.0\.0\.1:5001\/vt\/busybox:1: .*no basic auth credentials/m,
    );
    assert.match(
      r.stderr,
      /^hint: On the node, as the agent's user, `docker login 127\.0\.0\.1:5001` writes ~\/\.docker\/config\.json/m,
    );
    agentConfig({ auths: { [locked!.host]: { auth: Buffer.from(`${USER.name}:wrong`).toString('base64') } } });
    const wrong = await up('refused', `${locked!.host}/vt/busybox:1`);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /^error: The registry 127\.0\.0\.1:5001 refused .*unauthorized/m);
  });

  it("pulls with the node's auths entry in config.json", async function () {
    this.timeout(300_000);
    agentConfig({
      auths: { [locked!.host]: { auth: Buffer.from(`${USER.name}:${USER.password}`).toString('base64') } },
    });
    const r = await up('authed', `${locked!.host}/vt/busybox:1`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Pulling the image 127\.0\.0\.1:5001\/vt\/busybox:1 \(credentials from auths\)/);
    assert.equal((await env.ssh('authed.local.vendetta', ['echo', 'authed'])).stdout, 'authed\n');
  });

  it("pulls with the registry's credential helper (credHelpers, docker-credential-<name> get)", async function () {
    this.timeout(300_000);
    absent(`${locked!.host}/vt/busybox:1`);
    const asked = join(root, 'helper-asked');
    const helper = join(helperBin, 'docker-credential-vtest');
    writeFileSync(
      helper,
      `#!/bin/sh\n[ "$1" = get ] || exit 1\nread server\necho "$server" >> ${asked}\nprintf '{"ServerURL":"%s","Username":"${USER.name}","Secret":"${USER.password}"}' "$server"\n`,
    );
    chmodSync(helper, 0o755);
    agentConfig({ credHelpers: { [locked!.host]: 'vtest' } });
    const r = await up('helped', `${locked!.host}/vt/busybox:1`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\(credentials from docker-credential-vtest\)/);
    assert.ok(existsSync(asked), 'the helper was asked');
    assert.equal((await env.ssh('helped.local.vendetta', ['echo', 'helped'])).stdout, 'helped\n');
  });

  it('refuses an image built for another platform, naming both', async function () {
    this.timeout(120_000);
    const r = await up('foreign', `${open!.host}/vt/arm:1`);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /^error: The image 127\.0\.0\.1:5000\/vt\/arm:1 is not built for this node's platform \(linux\/amd64\): .*linux\/arm64/m,
    );
    assert.match(r.stderr, /^hint: Use a tag built for the node's platform/m);
  });
});
