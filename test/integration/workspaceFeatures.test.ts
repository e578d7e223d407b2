/**
 * Dev Container Features, end to end through the built CLI on the local node (a private dockerd
 * in its own network namespace): a project whose devcontainer.json lists a local feature folder
 * and an OCI feature published to a real registry behind basic auth (Debian's docker-registry on
 * the namespace's loopback), which the agent fetches with the node's credentials; the local
 * feature's dependsOn pulls in a second OCI feature. One workspace life, on the cached test image:
 * the install order, each feature's file, option values and defaults, containerEnv (with
 * `${PATH}` expanded), the feature's volume mount and entrypoint, the features' lifecycle commands
 * (in every form, before the project's own) and their VS Code customizations merged with the
 * project's are seen through the real OpenSSH client via the generated ssh_config, after a
 * recreate that reuses the built image.
 * Failures that make no container: a feature missing from the registry, an install.sh that fails.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tarBuffer, type TarInput } from '../../common/tar/encode';
import type { WorkspaceUpResult } from '../../coordinator/protocol';
import { TEST_IMAGE } from '../infra/image';
import { startRegistry, type Registry } from '../infra/registry';
import { requireCommands } from '../infra/sys';
import { createWorkspaceEnv, type WorkspaceEnv } from './workspaceHarness';

const USER = { name: 'fea', password: 'f3ature-Pw' };
const ORDER_FILE = '/etc/vendetta-feature-order';
/** Where each lifecycle command (the features' and the project's) leaves its marker. */
const HOOKS_FILE = '/tmp/vt-lifecycle';
const mark = (what: string) => `echo ${what} >> ${HOOKS_FILE}`;

function featureTar(files: Record<string, string>): Buffer {
  const entries: TarInput[] = Object.entries(files).map(([path, data]) => ({
    path,
    type: 'file',
    mode: path.endsWith('.sh') ? 0o755 : 0o644,
    data,
  }));
  return tarBuffer(entries);
}

function writeFolder(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o755 });
}

describe('Dev Container Features: local and OCI features installed on the node (built CLI, real registry)', function () {
  let env: WorkspaceEnv;
  let root: string;
  let registry: Registry | undefined;
  let ref: (name: string) => string;
  const numbers: Record<string, number> = {};

  function project(
    name: string,
    features: Record<string, unknown>,
    local: Record<string, Record<string, string>>,
    more: Record<string, unknown> = {},
  ) {
    const dir = join(root, 'projects', name);
    mkdirSync(join(dir, '.devcontainer'), { recursive: true });
    for (const [folder, files] of Object.entries(local))
      writeFolder(join(dir, '.devcontainer', 'features', folder), files);
    writeFileSync(
      join(dir, '.devcontainer', 'devcontainer.json'),
      JSON.stringify({ name, image: TEST_IMAGE, features, ...more }, null, 2),
    );
    return dir;
  }
  const up = (dir: string, more: string[] = []) =>
    env.cli(['workspace', 'up', dir, '--node', 'local', ...more], { timeoutMs: 300_000 });

  before(async function () {
    if (process.getuid?.() !== 0 && process.env.CI !== 'true') {
      console.log('    (skipped: the features suite needs root)');
      this.skip(); // not root, off CI
    }
    requireCommands(this, 'the features suite', ['docker-registry', 'htpasswd']);
    this.timeout(300_000);
    root = mkdtempSync(join(tmpdir(), 'vendetta-features-'));
    const agentDocker = join(root, 'agent-docker');
    mkdirSync(agentDocker, { recursive: true });
    env = await createWorkspaceEnv({ env: { DOCKER_CONFIG: agentDocker } });
    registry = await startRegistry({ dir: join(root, 'reg'), netns: env.dockerd.netns!, port: 5002, user: USER });
    ref = (name) => `${registry!.host}/vt/features/${name}`;
    // The node's own credentials: what the agent fetches features with.
    writeFileSync(
      join(agentDocker, 'config.json'),
      JSON.stringify({
        auths: { [registry.host]: { auth: Buffer.from(`${USER.name}:${USER.password}`).toString('base64') } },
      }),
    );
    const publish = async (name: string, files: Record<string, string>) => {
      const file = join(root, `${name}.tar`);
      writeFileSync(file, featureTar(files));
      const r = await env.run(
        [
          process.execPath,
          '-r',
          'tsx/cjs',
          join(__dirname, '..', 'infra', 'ociPush.ts'),
          registry!.host,
          `vt/features/${name}`,
          '1',
          file,
          `${USER.name}:${USER.password}`,
        ],
        { cwd: join(__dirname, '..', '..') },
      );
      assert.equal(r.code, 0, r.stderr);
    };
    await publish('greeter', {
      'devcontainer-feature.json': JSON.stringify({
        id: 'greeter',
        version: '1.0.0',
        options: {
          flavour: { type: 'string', enum: ['mint', 'lemon'], default: 'lemon' },
          loud: { type: 'boolean', default: false },
        },
        containerEnv: { GREETER_HOME: '/opt/greeter', PATH: '/opt/greeter/bin:${PATH}' },
        mounts: [{ source: 'vt-greeter-${devcontainerId}', target: '/var/lib/greeter', type: 'volume' }],
        updateContentCommand: mark('updateContent:greeter'),
        postCreateCommand: { a: mark('postCreate:greeter-a'), b: ['sh', '-c', mark('postCreate:greeter-b')] },
        customizations: {
          vscode: {
            extensions: ['vt-test.greeter'],
            settings: { 'greeter.flavour': 'from the feature', 'greeter.only': true },
          },
        },
      }),
      'install.sh': [
        '#!/bin/sh',
        'set -e',
        'mkdir -p /opt/greeter/bin',
        'echo "flavour=$FLAVOUR loud=$LOUD user=$_REMOTE_USER" > /opt/greeter/flavour',
        'printf "#!/bin/sh\\necho greetings\\n" > /opt/greeter/bin/greet',
        'chmod +x /opt/greeter/bin/greet',
        `echo greeter >> ${ORDER_FILE}`,
        '',
      ].join('\n'),
    });
    await publish('base-tools', {
      'devcontainer-feature.json': JSON.stringify({
        id: 'base-tools',
        options: { level: { type: 'string', default: '1' } },
        onCreateCommand: mark('onCreate:base-tools'),
        postStartCommand: ['sh', '-c', mark('postStart:base-tools')],
      }),
      'install.sh': `#!/bin/sh\necho "base-tools level=$LEVEL" >> ${ORDER_FILE}\n`,
    });
  });

  after(async function () {
    this.timeout(120_000);
    if (env) {
      await env.cli(['workspace', 'rm', 'feat', '--force']).catch(() => undefined);
      await env.cleanup();
    }
    await registry?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
    if (Object.keys(numbers).length) console.log(`    measured: ${JSON.stringify(numbers)}`);
  });

  it('installs the features in dependency order and the workspace shows their files, env, mount and entrypoint', async function () {
    this.timeout(600_000);
    const dir = project(
      'feat',
      // Listed marker first: installsAfter and dependsOn must put it last.
      { './features/marker': { note: 'hello there' }, [`${ref('greeter')}:1`]: { flavour: 'mint' } },
      {
        marker: {
          'devcontainer-feature.json': JSON.stringify({
            id: 'marker',
            options: { note: { type: 'string' } },
            dependsOn: { [`${ref('base-tools')}:1`]: { level: '2' } },
            installsAfter: [ref('greeter')],
            containerEnv: { MARKER_NOTE: 'from the marker feature' },
            entrypoint: '/usr/local/bin/marker-entry',
            onCreateCommand: ['sh', '-c', mark('onCreate:marker')],
            postAttachCommand: mark('postAttach:marker'),
            // Another tool's customizations: not applied, and said so (once, at install) as a warning.
            customizations: { vscode: { extensions: ['vt-test.marker'] }, jetbrains: { plugins: ['x'] } },
          }),
          'install.sh': [
            '#!/bin/sh',
            'set -e',
            `echo "marker note=$NOTE" >> ${ORDER_FILE}`,
            'printf "#!/bin/sh\\ndate > /run/marker-entry-ran\\n" > /usr/local/bin/marker-entry',
            'chmod +x /usr/local/bin/marker-entry',
            '',
          ].join('\n'),
        },
      },
      {
        onCreateCommand: mark('onCreate:project'),
        postCreateCommand: mark('postCreate:project'),
        postStartCommand: mark('postStart:project'),
        postAttachCommand: mark('postAttach:project'),
        customizations: {
          vscode: { extensions: ['vt-test.project', 'vt-test.greeter'], settings: { 'greeter.flavour': 'mine' } },
        },
      },
    );
    const first = await up(dir);
    numbers.firstUpMs = first.ms;
    if (process.env.VENDETTA_TEST_DEBUG) writeFileSync('/tmp/feat-first-up.log', first.stderr);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stderr,
      /^warning: The feature \.\/\.devcontainer\/features\/marker sets customizations\.jetbrains, which Vendetta does not apply$/m,
    );
    assert.match(
      first.stderr,
      /Installing the features in this order: 127\.0\.0\.1:5002\/vt\/features\/base-tools:1, 127\.0\.0\.1:5002\/vt\/features\/greeter:1, \.\/\.devcontainer\/features\/marker/,
    );

    // A recreate uses the image built above: nothing fetched, nothing built.
    const again = await up(dir, ['--recreate', '--json']);
    numbers.recreateUpMs = again.ms;
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /Fetching the feature|Installing the features|Step \d+\/\d+/);
    assert.deepEqual((JSON.parse(again.stdout) as WorkspaceUpResult).warnings, [], 'nothing installed, nothing to say');
    // The features' extensions and the project's, each once.
    assert.deepEqual((JSON.parse(again.stdout) as WorkspaceUpResult).vscodeExtensions, [
      'vt-test.greeter',
      'vt-test.marker',
      'vt-test.project',
    ]);

    // One command line, run by the login shell of the workspace (as Remote-SSH's commands are).
    const r = await env.ssh('feat.local.vendetta', [
      `cat ${ORDER_FILE}; cat /opt/greeter/flavour; echo "env=$GREETER_HOME|$MARKER_NOTE"; greet; ` +
        "grep -c ' /var/lib/greeter ' /proc/mounts; test -s /run/marker-entry-ran && echo entrypoint-ran",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        'base-tools level=2',
        'greeter',
        'marker note=hello there',
        'flavour=mint loud=false user=root',
        'env=/opt/greeter|from the marker feature',
        'greetings',
        '1',
        'entrypoint-ran',
        '',
      ].join('\n'),
    );

    // The recreated container ran every create command again: the features' first, in install
    // order, then the project's; the object form's two at the same time (either may be first).
    const lifecycle = async () => (await env.ssh('feat.local.vendetta', [`cat ${HOOKS_FILE}`])).stdout.split('\n');
    let marks = await lifecycle();
    marks.splice(4, 2, ...marks.slice(4, 6).sort());
    assert.deepEqual(marks.slice(0, 9), [
      'onCreate:base-tools',
      'onCreate:marker',
      'onCreate:project',
      'updateContent:greeter',
      'postCreate:greeter-a',
      'postCreate:greeter-b',
      'postCreate:project',
      'postStart:base-tools',
      'postStart:project',
    ]);
    // Each SSH connection runs postAttach in the background: the feature's, then the project's.
    for (let i = 0; i < 100 && !marks.includes('postAttach:project'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      marks = await lifecycle();
    }
    assert.deepEqual(marks.slice(9, 11), ['postAttach:marker', 'postAttach:project']);

    // The remote's machine settings: the feature's, the project's winning where both set one.
    const settings = JSON.parse(
      (await env.ssh('feat.local.vendetta', ['cat /root/.vscode-server/data/Machine/settings.json'])).stdout,
    ) as Record<string, unknown>;
    assert.equal(settings['greeter.flavour'], 'mine');
    assert.equal(settings['greeter.only'], true);
  });

  it('names a feature the registry does not have, and makes no container', async function () {
    this.timeout(120_000);
    const r = await up(project('feat-missing', { [`${ref('nope')}:1`]: {} }, {}));
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /^error: The feature 127\.0\.0\.1:5002\/vt\/features\/nope:1 could not be fetched from 127\.0\.0\.1:5002: there is no vt\/features\/nope:1 there/m,
    );
    assert.equal(
      (await env.containers()).filter((c) => c.Labels['dev.vendetta.workspace'] === 'feat-missing').length,
      0,
    );
  });

  it('names the feature whose install.sh failed, with its output, and makes no container', async function () {
    this.timeout(300_000);
    const dir = project(
      'feat-broken',
      { './features/broken': true },
      {
        broken: {
          'devcontainer-feature.json': JSON.stringify({ id: 'broken' }),
          'install.sh': '#!/bin/sh\necho "cannot install broken things" >&2\nexit 3\n',
        },
      },
    );
    const r = await up(dir);
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /^error: The feature \.\/\.devcontainer\/features\/broken failed to install: .*non-zero code: 3/m,
    );
    assert.match(r.stderr, /cannot install broken things/);
    assert.equal(
      (await env.containers()).filter((c) => c.Labels['dev.vendetta.workspace'] === 'feat-broken').length,
      0,
    );
  });
});
