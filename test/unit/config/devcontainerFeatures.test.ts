import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveWorkspaceConfig, validateDevcontainerText } from '../../../coordinator/config';
import { featureReference } from '../../../coordinator/config/devcontainerFeatures';
import { featureInputsHash } from '../../../coordinator/workspaces/featureInputs';
import { buildSpec } from '../../../coordinator/workspaces/project';

const at = (file: string, text: string) => validateDevcontainerText(text, file, 'proj');
const summary = (r: ReturnType<typeof at>) => r.diagnostics.map((d) => `${d.line}:${d.col} ${d.severity} ${d.message}`);

describe('devcontainer.json features', () => {
  it('takes OCI and local features with their options, local folders relative to devcontainer.json', () => {
    const r = at(
      '/p/.devcontainer/go/devcontainer.json',
      JSON.stringify({
        image: 'debian:12',
        features: {
          'ghcr.io/devcontainers/features/go:1': { version: '1.22', tools: true, n: 3 },
          'ghcr.io/devcontainers/features/node:1': 'lts',
          './features/local': {},
          '../shared/feat': true,
        },
        overrideFeatureInstallOrder: ['./features/local', 'ghcr.io/devcontainers/features/go'],
      }),
    );
    assert.deepEqual(summary(r), []);
    assert.deepEqual(r.config?.docker, {
      image: 'debian:12',
      features: {
        'ghcr.io/devcontainers/features/go:1': { version: '1.22', tools: true, n: '3' },
        'ghcr.io/devcontainers/features/node:1': { version: 'lts' },
        './.devcontainer/go/features/local': {},
        './.devcontainer/shared/feat': {},
      },
      featureInstallOrder: ['./.devcontainer/go/features/local', 'ghcr.io/devcontainers/features/go'],
    });
    const resolved = resolveWorkspaceConfig(r.config!);
    assert.deepEqual(Object.keys(resolved.docker.features ?? {}).length, 4);
    assert.deepEqual(resolved.docker.featureInstallOrder, r.config?.docker?.featureInstallOrder);
  });

  it('refuses a feature it cannot fetch or a folder outside the project, and bad options, with a location', () => {
    const r = at(
      '/p/.devcontainer/devcontainer.json',
      '{"image":"x",\n"features":{"https://example.com/f.tgz":{},"../../out":{},"node":{},"./ok":{"a":[1]},"./also":7}}',
    );
    assert.deepEqual(summary(r), [
      '2:13 error the feature "https://example.com/f.tgz" is a tarball URL, which Vendetta does not fetch',
      '2:44 error the local feature "../../out" is not a folder inside the project',
      '2:59 error "node" is not an OCI feature reference',
      '2:81 error the feature option `a` must be a string, number or boolean',
      '2:95 error the options of the feature "./also" must be an object',
    ]);
    assert.match(
      summary(at('/p/.devcontainer/devcontainer.json', '{"image":"x","features":[]}'))[0]!,
      /`features` must be an object/,
    );
    assert.match(
      summary(at('/p/.devcontainer/devcontainer.json', '{"image":"x","overrideFeatureInstallOrder":"a"}'))[0]!,
      /`overrideFeatureInstallOrder` must be a list/,
    );
  });

  it('no longer warns that features are ignored', () => {
    const r = at('/p/.devcontainer/devcontainer.json', '{"image":"x","features":{"ghcr.io/x/y:1":{}}}');
    assert.deepEqual(r.diagnostics, []);
  });

  it('rebases a local reference and keeps an OCI one', () => {
    assert.deepEqual(featureReference('./f', '.devcontainer'), { ref: './.devcontainer/f' });
    assert.deepEqual(featureReference('ghcr.io/a/b:1', '.devcontainer'), { ref: 'ghcr.io/a/b:1' });
    assert.ok('error' in featureReference('./', '.'));
  });
});

describe('the features image name', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'vendetta-featurehash-'));
    mkdirSync(join(root, '.devcontainer', 'features', 'x'), { recursive: true });
    writeFileSync(join(root, '.devcontainer', 'features', 'x', 'install.sh'), 'echo 1\n');
    writeFileSync(join(root, 'unrelated.txt'), 'a');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('changes with a local feature file, an option, the order, the base or the user, and not with other files', async function () {
    this.timeout(30_000);
    const inputs = {
      base: 'debian:12',
      features: { './.devcontainer/features/x': { a: '1' }, 'reg.io/f/y:1': {} },
      user: 'root',
    };
    const h = await featureInputsHash(root, inputs);
    assert.match(h, /^[0-9a-f]{16}$/);
    assert.equal(await featureInputsHash(root, { ...inputs }), h);
    writeFileSync(join(root, 'unrelated.txt'), 'b');
    assert.equal(await featureInputsHash(root, inputs), h);
    const others = [
      await featureInputsHash(root, {
        ...inputs,
        features: { ...inputs.features, './.devcontainer/features/x': { a: '2' } },
      }),
      await featureInputsHash(root, { ...inputs, installOrder: ['reg.io/f/y'] }),
      await featureInputsHash(root, { ...inputs, base: 'build:0123' }),
      await featureInputsHash(root, { ...inputs, user: 'dev' }),
    ];
    writeFileSync(join(root, '.devcontainer', 'features', 'x', 'install.sh'), 'echo 2\n');
    others.push(await featureInputsHash(root, inputs));
    assert.equal(new Set([h, ...others]).size, 6);
  });

  it('the spec installs the features on the configured image into an image named by that hash', () => {
    const r = at('/p/.devcontainer/devcontainer.json', '{"image":"debian:12","features":{"./f":{"a":true}}}');
    const spec = buildSpec(resolveWorkspaceConfig(r.config!), { featuresHash: 'abcd' }, 'ssh-ed25519 AAAA k');
    assert.equal(spec.provider, 'docker');
    if (spec.provider !== 'docker') return;
    assert.equal(spec.docker.image, 'vendetta-ws/proj:abcd');
    assert.deepEqual(spec.docker.features, {
      base: 'debian:12',
      items: [{ id: './.devcontainer/f', options: { a: true } }],
    });
    assert.throws(() => buildSpec(resolveWorkspaceConfig(r.config!), {}, 'k'), /needs the hash/);
  });
});
