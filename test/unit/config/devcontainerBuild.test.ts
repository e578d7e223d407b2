import assert from 'node:assert/strict';
import { resolveWorkspaceConfig, validateDevcontainerText } from '../../../coordinator/config';
import { configDirOf } from '../../../coordinator/config/devcontainerBuild';

const at = (file: string, text: string) => validateDevcontainerText(text, file, 'proj');
const summary = (r: ReturnType<typeof at>) => r.diagnostics.map((d) => `${d.line}:${d.col} ${d.severity} ${d.message}`);

describe('devcontainer.json build and lifecycle commands', () => {
  it('knows where each kind of devcontainer.json sits in its project', () => {
    assert.equal(configDirOf('/p/.devcontainer/devcontainer.json'), '.devcontainer');
    assert.equal(configDirOf('/p/.devcontainer/python/devcontainer.json'), '.devcontainer/python');
    assert.equal(configDirOf('/p/.devcontainer.json'), '.');
    assert.equal(configDirOf('devcontainer.json'), '.');
    assert.equal(configDirOf('C:\\p\\.devcontainer\\devcontainer.json'), '.devcontainer');
  });

  it('turns build paths relative to devcontainer.json into paths in the project', () => {
    const r = at(
      '/p/.devcontainer/devcontainer.json',
      '{"build":{"dockerfile":"Dockerfile","context":"..","args":{"V":"1","W":"two words"},"target":"dev"}}',
    );
    assert.deepEqual(summary(r), []);
    assert.deepEqual(r.config?.docker, {
      build: { context: '.', dockerfile: '.devcontainer/Dockerfile', args: { V: '1', W: 'two words' }, target: 'dev' },
    });
    const resolved = resolveWorkspaceConfig(r.config!);
    assert.deepEqual(resolved.docker.build, {
      context: '.',
      dockerfile: '.devcontainer/Dockerfile',
      args: { V: '1', W: 'two words' },
      target: 'dev',
    });

    const own = at('/p/.devcontainer/devcontainer.json', '{"build":{"dockerfile":"Dockerfile"}}');
    assert.deepEqual(own.config?.docker, { build: { context: '.devcontainer', dockerfile: 'Dockerfile' } });
    const named = at(
      '/p/.devcontainer/go/devcontainer.json',
      '{"build":{"dockerfile":"../Dockerfile","context":"../.."}}',
    );
    assert.deepEqual(named.config?.docker, { build: { context: '.', dockerfile: '.devcontainer/Dockerfile' } });
    const root = at('/p/.devcontainer.json', '{"build":{"dockerfile":"docker/dev.Dockerfile","context":"docker"}}');
    assert.deepEqual(root.config?.docker, { build: { context: 'docker', dockerfile: 'dev.Dockerfile' } });
  });

  it('reads the old top-level dockerFile and context', () => {
    const r = at('/p/.devcontainer/devcontainer.json', '{"dockerFile":"Dockerfile","context":".."}');
    assert.deepEqual(summary(r), []);
    assert.deepEqual(r.config?.docker, { build: { context: '.', dockerfile: '.devcontainer/Dockerfile' } });
  });

  it('refuses a build context outside the project and a Dockerfile outside the context', () => {
    const out = at('/p/.devcontainer/devcontainer.json', '{"build":{"dockerfile":"Dockerfile","context":"../.."}}');
    assert.equal(out.config, undefined);
    assert.match(summary(out).join('\n'), /1:\d+ error the build context "\.\.\/\.\." leaves the project folder/);
    const outside = at('/p/.devcontainer/devcontainer.json', '{"build":{"dockerfile":"../Dockerfile"}}');
    assert.equal(outside.config, undefined);
    assert.match(
      summary(outside).join('\n'),
      /the Dockerfile "\.\.\/Dockerfile" is not inside the build context \.devcontainer/,
    );
    const noFile = at('/p/.devcontainer/devcontainer.json', '{"build":{"context":".."}}');
    assert.match(summary(noFile).join('\n'), /`build` has no `dockerfile`/);
  });

  it('checks build args and target, and names the build options it ignores', () => {
    const r = at(
      '/p/.devcontainer/devcontainer.json',
      '{"build":{"dockerfile":"D","args":{"OK":"1","N":2},"target":3,"cacheFrom":"x"}}',
    );
    assert.deepEqual(summary(r), [
      '1:49 error `build.args.N` must be a string',
      '1:61 error `build.target` must be a string (a stage of the Dockerfile)',
      '1:63 warning `build.cacheFrom` is not supported and is ignored',
    ]);
    const badName = at('/p/.devcontainer/devcontainer.json', '{"build":{"dockerfile":"D","args":{"BAD-NAME":"1"}}}');
    assert.equal(badName.config, undefined);
    assert.match(summary(badName).join('\n'), /build\.args/);
  });

  it('takes every lifecycle command in each of its forms', () => {
    const r = at(
      '/p/.devcontainer/devcontainer.json',
      JSON.stringify({
        image: 'i',
        initializeCommand: 'echo init',
        onCreateCommand: ['sh', '-c', 'echo create'],
        updateContentCommand: { a: 'echo a', b: ['echo', 'b'] },
        postCreateCommand: 'echo post',
        postStartCommand: ['echo', 'start'],
        postAttachCommand: { one: 'echo attach' },
      }),
    );
    assert.deepEqual(summary(r), []);
    assert.deepEqual(r.config?.hooks, {
      initialize: 'echo init',
      onCreate: ['sh', '-c', 'echo create'],
      updateContent: { a: 'echo a', b: ['echo', 'b'] },
      postCreate: 'echo post',
      postStart: ['echo', 'start'],
      postAttach: { one: 'echo attach' },
    });
    assert.deepEqual(resolveWorkspaceConfig(r.config!).hooks, r.config?.hooks);
  });

  it("refuses a lifecycle command of the wrong shape, in the file's own words", () => {
    for (const bad of ['42', '""', '[]', '[1]', '{}', '{"a":42}']) {
      const r = at('/p/.devcontainer/devcontainer.json', `{"image":"i","onCreateCommand":${bad}}`);
      assert.equal(r.config, undefined, bad);
      assert.match(
        summary(r).join('\n'),
        /`onCreateCommand` must be a command string, a list of strings, or an object of named commands/,
        bad,
      );
    }
  });

  it('names every field it does not honour, known or not, and refuses Docker Compose with a way out', () => {
    const r = at(
      '/p/.devcontainer/devcontainer.json',
      '{"image":"i","$schema":"x","shutdownAction":"none","mystery":1}',
    );
    assert.deepEqual(summary(r), [
      '1:28 warning `shutdownAction` is not supported and is ignored',
      '1:52 warning `mystery` is not a devcontainer.json field Vendetta knows; it is ignored',
    ]);
    const compose = at('/p/.devcontainer/devcontainer.json', '{"dockerComposeFile":"c.yml","service":"app"}');
    assert.equal(compose.config, undefined);
    const err = compose.diagnostics.find((d) => d.severity === 'error');
    assert.match(err?.message ?? '', /Docker Compose projects are not supported/);
    assert.match(err?.hint ?? '', /\.vendetta\/config\.yaml.*`services:`/);
    const none = at('/p/.devcontainer/devcontainer.json', '{"name":"x"}');
    assert.match(summary(none).join('\n'), /has no `image` or `build`/);
  });
});
