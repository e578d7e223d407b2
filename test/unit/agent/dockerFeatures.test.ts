/** Dev Container Features in the agent: metadata, options, install order, the build context, the container's options. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { tarBuffer } from '../../../common/tar/encode';
import { AgentError } from '../../../agent/errors';
import { loginSpec, sshdConfigText } from '../../../agent/workspaces/sshd';
import {
  featureOfOutput,
  featuresBuildContext,
  parseFeaturesLabel,
  withEntrypoints,
  withFeatureRun,
  type FeaturesSummary,
  type ReadyFeature,
} from '../../../agent/providers/docker/features/dockerfile';
import {
  givenOptions,
  optionEnv,
  optionEnvName,
  parseFeatureMetadata,
} from '../../../agent/providers/docker/features/metadata';
import {
  FEATURE_LAYER_TYPE,
  featureLayer,
  fetchOciFeature,
  parseChallenge,
  registryBase,
  type OciDeps,
} from '../../../agent/providers/docker/features/oci';
import { featureResource, installOrder, type OrderNode } from '../../../agent/providers/docker/features/order';
import { resolveFeatures, type ResolveDeps } from '../../../agent/providers/docker/features/resolve';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AgentError, String(err));
    return `${err.code}: ${err.message}`;
  }
  return 'no error';
};

const meta = (o: object) => parseFeatureMetadata(JSON.stringify({ id: 'f', ...o }), 'ghcr.io/x/f:1');

describe('Dev Container Feature metadata and options', () => {
  it('reads devcontainer-feature.json: options, order hints, env, mounts in both forms, privileges, entrypoint', () => {
    const m = meta({
      version: '1.2.0',
      options: { version: { type: 'string', default: 'lts', enum: ['lts', '20'] }, fast: { type: 'boolean' } },
      installsAfter: ['ghcr.io/x/common'],
      dependsOn: { 'ghcr.io/x/base:1': { level: 2 }, 'ghcr.io/x/other:1': {} },
      containerEnv: { GOPATH: '/go', PATH: '/go/bin:${PATH}' },
      mounts: [{ source: 'v-${devcontainerId}', target: '/var/lib/v', type: 'volume' }, 'type=tmpfs,target=/scratch'],
      privileged: true,
      init: true,
      capAdd: ['SYS_PTRACE'],
      securityOpt: ['seccomp=unconfined'],
      entrypoint: '/usr/local/share/start.sh',
      customizations: { vscode: { extensions: ['golang.go'] } },
    });
    assert.equal(m.version, '1.2.0');
    assert.deepEqual(m.options.version, { type: 'string', default: 'lts', enum: ['lts', '20'] });
    assert.deepEqual(m.dependsOn, { 'ghcr.io/x/base:1': { level: '2' }, 'ghcr.io/x/other:1': {} });
    assert.deepEqual(m.mounts, [
      { source: 'v-${devcontainerId}', target: '/var/lib/v', type: 'volume' },
      { type: 'tmpfs', target: '/scratch' },
    ]);
    assert.equal(m.privileged, true);
    assert.equal(m.init, true);
    assert.equal(m.entrypoint, '/usr/local/share/start.sh');
    assert.deepEqual(m.customizations, { vscode: { extensions: ['golang.go'] } });
    assert.deepEqual(m.vscode, { extensions: ['golang.go'], settings: {} });
    assert.deepEqual(m.ignored, []);
  });

  it('refuses metadata that cannot be right, naming the feature', () => {
    assert.match(
      code(() => parseFeatureMetadata('{', 'r')),
      /^FEATURE_INVALID: The feature r has an invalid devcontainer-feature.json: not JSON/,
    );
    assert.match(
      code(() => parseFeatureMetadata('{"id":"../x"}', 'r')),
      /`id` is missing or not a plain name/,
    );
    assert.match(
      code(() => meta({ options: { a: { type: 'number' } } })),
      /option "a" has no type/,
    );
    assert.match(
      code(() => meta({ options: { a: { type: 'boolean', default: 'yes' } } })),
      /default is not a boolean/,
    );
    assert.match(
      code(() => meta({ containerEnv: { 'A-B': 'x' } })),
      /containerEnv "A-B"/,
    );
    assert.match(
      code(() => meta({ containerEnv: { A: 'two\nlines' } })),
      /containerEnv "A"/,
    );
    // A feature from a registry may not reach into the node's folders.
    assert.match(
      code(() => meta({ mounts: [{ type: 'bind', source: '/', target: '/host' }] })),
      /bind mount .* not allowed/,
    );
    assert.match(
      code(() => meta({ mounts: [{ type: 'volume', target: 'relative' }] })),
      /no absolute target/,
    );
    assert.match(
      code(() => meta({ entrypoint: 42 })),
      /`entrypoint`/,
    );
    assert.match(
      code(() => meta({ capAdd: 'SYS_ADMIN' })),
      /`capAdd` is not a list of strings/,
    );
  });

  it('turns option ids into variable names as the spec does', () => {
    assert.equal(optionEnvName('version'), 'VERSION');
    assert.equal(optionEnvName('install-tools'), 'INSTALL_TOOLS');
    assert.equal(optionEnvName('node.version'), 'NODE_VERSION');
    assert.equal(optionEnvName('2fa'), '_FA');
  });

  it('gives install.sh each option given or defaulted, and refuses an unknown option or a value outside the enum', () => {
    const m = meta({
      options: {
        version: { type: 'string', default: 'lts', enum: ['lts', '20'] },
        'install-tools': { type: 'boolean', default: true },
        extra: { type: 'string' },
      },
    });
    assert.deepEqual(optionEnv(m, {}, 'r'), { VERSION: 'lts', INSTALL_TOOLS: 'true' });
    assert.deepEqual(optionEnv(m, { version: '20', 'install-tools': 'false', extra: 'x y' }, 'r'), {
      VERSION: '20',
      INSTALL_TOOLS: 'false',
      EXTRA: 'x y',
    });
    assert.match(
      code(() => optionEnv(m, { versoin: '20' }, 'r')),
      /^FEATURE_INVALID: The feature r: it has no option "versoin" \(its options: version, install-tools, extra\)/,
    );
    assert.match(
      code(() => optionEnv(m, { version: '18' }, 'r')),
      /option "version" must be one of "lts", "20", got "18"/,
    );
    assert.match(
      code(() => optionEnv(m, { 'install-tools': 'maybe' }, 'r')),
      /must be true or false/,
    );
    assert.match(
      code(() => optionEnv(meta({}), { a: '1' }, 'r')),
      /it takes no options/,
    );
  });

  it('reads the options a project gives: an object, the legacy version string, or true', () => {
    assert.deepEqual(givenOptions({ a: 'x', b: true, c: 3 }, 'r'), { a: 'x', b: true, c: '3' });
    assert.deepEqual(givenOptions('lts', 'r'), { version: 'lts' });
    assert.deepEqual(givenOptions(true, 'r'), {});
    assert.match(
      code(() => givenOptions({ a: [1] }, 'r')),
      /option "a" must be a string or a boolean/,
    );
  });
});

describe('Dev Container Feature install order', () => {
  const node = (ref: string, o: Partial<OrderNode> = {}): OrderNode => ({
    ref,
    id: ref.split('/').pop()!.split(':')[0]!,
    dependsOn: [],
    installsAfter: [],
    ...o,
  });
  const order = (nodes: OrderNode[], override: string[] = []) => installOrder(nodes, override).map((n) => n.ref);

  it('puts dependencies and installsAfter first, else sorts by reference whatever the listed order', () => {
    const nodes = [
      node('./.devcontainer/features/marker', { dependsOn: ['reg.io/f/base:1'], installsAfter: ['reg.io/f/greeter'] }),
      node('reg.io/f/greeter:1'),
      node('reg.io/f/base:1'),
    ];
    assert.deepEqual(order(nodes), ['reg.io/f/base:1', 'reg.io/f/greeter:1', './.devcontainer/features/marker']);
    assert.deepEqual(order([...nodes].reverse()), order(nodes));
    // installsAfter a feature that is not installed changes nothing.
    assert.deepEqual(order([node('reg.io/f/a:1', { installsAfter: ['reg.io/f/absent'] }), node('./x')]), [
      './x',
      'reg.io/f/a:1',
    ]);
  });

  it('installs what overrideFeatureInstallOrder names first, in its order, as soon as its own dependencies are in', () => {
    const nodes = [node('reg.io/f/a:1'), node('reg.io/f/b:1'), node('reg.io/f/c:1', { dependsOn: ['reg.io/f/a:1'] })];
    assert.deepEqual(order(nodes, ['reg.io/f/c', 'reg.io/f/b:1']), ['reg.io/f/b:1', 'reg.io/f/a:1', 'reg.io/f/c:1']);
    assert.deepEqual(order(nodes, ['reg.io/f/c', 'reg.io/f/a']), ['reg.io/f/a:1', 'reg.io/f/c:1', 'reg.io/f/b:1']);
    assert.deepEqual(order(nodes, ['reg.io/f/b']), ['reg.io/f/b:1', 'reg.io/f/a:1', 'reg.io/f/c:1']);
  });

  it('refuses a cycle, naming the features in it, and a dependency that is not among the features', () => {
    const cycle = [
      node('reg.io/f/a:1', { dependsOn: ['reg.io/f/b:1'] }),
      node('reg.io/f/b:1', { installsAfter: ['reg.io/f/a'] }),
      node('reg.io/f/c:1'),
    ];
    assert.match(
      code(() => installOrder(cycle)),
      /^FEATURE_CYCLE: The features reg\.io\/f\/a:1, reg\.io\/f\/b:1 wait for each other/,
    );
    assert.match(
      code(() => installOrder([node('reg.io/f/a:1', { dependsOn: ['reg.io/f/z:1'] })])),
      /^FEATURE_NOT_FOUND: .*depends on reg\.io\/f\/z:1/,
    );
  });

  it('names a feature by its repository without the version', () => {
    assert.equal(featureResource('ghcr.io/devcontainers/features/node:1'), 'ghcr.io/devcontainers/features/node');
    assert.equal(featureResource('Reg.io/f/a@sha256:' + 'a'.repeat(64)), 'reg.io/f/a');
    assert.equal(featureResource('./.devcontainer/features/x/'), './.devcontainer/features/x');
  });
});

describe('the features image build and the container it makes', () => {
  const ready = (ref: string, o: object, files: Record<string, string> = {}): ReadyFeature => ({
    ref,
    meta: parseFeatureMetadata(JSON.stringify(o), ref),
    env: {},
    files: Object.entries({ 'install.sh': '#!/bin/sh\n', ...files }).map(([path, data]) => ({
      path,
      type: 'file' as const,
      mode: 0o644,
      data,
    })),
  });

  it('writes one COPY, ENV and RUN per feature in order, the options file quoted for sh, and returns to the image user', () => {
    const a = {
      ...ready('reg.io/f/a:1', { id: 'a', containerEnv: { PATH: '/a/bin:${PATH}', Q: 'say "hi"' } }),
      env: { V: 'a $b `c` "d"\\' },
    };
    const b = ready('./.devcontainer/features/b', { id: 'b' }, { 'devcontainer-features.env': 'X=from-the-project\n' });
    const { entries, summary } = featuresBuildContext('base:1', 'dev', [a, b], {
      remoteUser: 'dev',
      containerUser: 'root',
    });
    const dockerfile = String(entries.find((e) => e.path === 'Dockerfile')!.data);
    assert.equal(
      dockerfile,
      [
        'FROM base:1',
        'USER root',
        'COPY . /tmp/vendetta-features/',
        "RUN set -e; echo 'vendetta: installing feature 0-a'; " +
          '(cd /tmp/vendetta-features/0-a && chmod +x ./install.sh && set -a && . ./devcontainer-features.env && set +a && ./install.sh); ' +
          'export PATH="/a/bin:${PATH}"; export Q="say \\"hi\\""; ' +
          "echo 'vendetta: installing feature 1-b'; " +
          '(cd /tmp/vendetta-features/1-b && chmod +x ./install.sh && set -a && . ./devcontainer-features.env && set +a && ./install.sh)',
        'ENV PATH="/a/bin:${PATH}" Q="say \\"hi\\""',
        'USER dev',
        '',
      ].join('\n'),
    );
    assert.equal(
      String(entries.find((e) => e.path === '0-a/devcontainer-features.env')!.data),
      'V="a \\$b \\`c\\` \\"d\\"\\\\"\n_REMOTE_USER="dev"\n_REMOTE_USER_HOME="/home/dev"\n_CONTAINER_USER="root"\n_CONTAINER_USER_HOME="/root"\n',
    );
    // The project's own options file never replaces the agent's.
    assert.equal(entries.filter((e) => e.path === '1-b/devcontainer-features.env').length, 1);
    assert.deepEqual(summary.order, ['reg.io/f/a:1', './.devcontainer/features/b']);
    assert.deepEqual(summary.containerEnv, ['PATH', 'Q']);
    assert.equal(
      featureOfOutput('vendetta: installing feature 0-a\nok\nvendetta: installing feature 1-b\nboom\n'),
      '1-b',
    );
    assert.equal(featureOfOutput('Step 1/7 : FROM base:1'), undefined);
    // A name set again, or used by the next value, starts another ENV: one ENV sees only values from before it.
    const twice = featuresBuildContext(
      'base:1',
      undefined,
      [
        ready('r/a:1', { id: 'a', containerEnv: { PATH: '/a:${PATH}', A: '1' } }),
        ready('r/b:1', { id: 'b', containerEnv: { PATH: '/b:${PATH}', B: '$A/x' } }),
      ],
      { remoteUser: 'root', containerUser: 'root' },
    );
    assert.deepEqual(
      String(twice.entries[0]!.data)
        .split('\n')
        .filter((l) => l.startsWith('ENV') || l.startsWith('USER')),
      ['ENV PATH="/a:${PATH}" A="1"', 'ENV PATH="/b:${PATH}" B="$A/x"'],
    );
  });

  it("adds the features' mounts, privileges, capabilities and security options to the project's, the project's mount winning", () => {
    const s: FeaturesSummary = {
      order: [],
      containerEnv: [],
      mounts: [
        { type: 'volume', source: 'dind-${devcontainerId}', target: '/var/lib/docker' },
        { type: 'tmpfs', target: '/mine' },
      ],
      privileged: true,
      init: true,
      capAdd: ['SYS_PTRACE', 'NET_ADMIN'],
      securityOpt: ['seccomp=unconfined'],
      entrypoints: [],
      customizations: [],
      hooks: [],
      vscode: [],
    };
    assert.deepEqual(
      withFeatureRun({ mounts: [{ type: 'volume', source: 'own', target: '/mine' }], capAdd: ['NET_ADMIN'] }, s, 'ws'),
      {
        mounts: [
          { type: 'volume', source: 'dind-ws', target: '/var/lib/docker' },
          { type: 'volume', source: 'own', target: '/mine' },
        ],
        capAdd: ['NET_ADMIN', 'SYS_PTRACE'],
        privileged: true,
        init: true,
        securityOpt: ['seccomp=unconfined'],
      },
    );
    const none = { ...s, mounts: [], privileged: undefined, init: undefined, capAdd: [], securityOpt: [] };
    assert.equal(withFeatureRun(undefined, none, 'ws'), undefined);
  });

  it("runs the features' entrypoints before exec'ing the SSH server, and reads its label back", () => {
    assert.deepEqual(withEntrypoints(['/usr/sbin/sshd', '-D'], []), ['/usr/sbin/sshd', '-D']);
    assert.deepEqual(withEntrypoints(['/usr/sbin/sshd', '-D'], ['/a.sh', '/b.sh']), [
      '/bin/sh',
      '-c',
      '/a.sh\n/b.sh\nexec "$@"',
      'vendetta-features',
      '/usr/sbin/sshd',
      '-D',
    ]);
    assert.equal(parseFeaturesLabel(undefined), undefined);
    assert.equal(parseFeaturesLabel('not json'), undefined);
    assert.equal(parseFeaturesLabel('{"order":[]}'), undefined);
    assert.equal(
      parseFeaturesLabel('{"order":["a"],"mounts":[],"entrypoints":[]}'),
      undefined,
      "an older label without the features' lifecycle commands: the image is built again",
    );
    assert.deepEqual(parseFeaturesLabel('{"order":["a"],"mounts":[],"entrypoints":[],"hooks":[],"vscode":[]}')?.order, [
      'a',
    ]);
  });
});

describe('resolving the features a spec lists', () => {
  const tarOf = (files: Record<string, string | object>) =>
    tarBuffer(
      Object.entries(files).map(([path, data]) => ({
        path,
        type: 'file' as const,
        mode: 0o644,
        data: typeof data === 'string' ? data : JSON.stringify(data),
      })),
    );
  const registry: Record<string, Buffer> = {
    'reg.io/f/base:1': tarOf({
      'devcontainer-feature.json': { id: 'base', options: { level: { type: 'string', default: '1' } } },
      'install.sh': '',
    }),
    'reg.io/f/app:1': tarOf({
      'devcontainer-feature.json': { id: 'app', dependsOn: { 'reg.io/f/base:1': { level: '2' } } },
      'install.sh': '',
    }),
    'reg.io/f/empty:1': tarOf({ 'README.md': 'no feature here' }),
    'reg.io/f/evil:1': tarBuffer([{ path: '../escape', type: 'file', mode: 0o644, data: 'x' }]),
  };
  const fetched: string[] = [];
  const deps: ResolveDeps = {
    async *localTar(path) {
      yield tarOf({ 'devcontainer-feature.json': { id: path.split('/').pop() }, 'install.sh': '' });
    },
    async ociTar(ref) {
      fetched.push(ref);
      const tar = registry[ref];
      if (!tar) throw new AgentError('FEATURE_NOT_FOUND', `no ${ref}`);
      return { digest: 'sha256:x', tar };
    },
  };
  const refs = async (items: Array<[string, Record<string, string | boolean>]>, installOrder?: string[]) =>
    (
      await resolveFeatures(
        {
          base: 'b',
          items: items.map(([id, options]) => ({ id, options })),
          ...(installOrder ? { installOrder } : {}),
        },
        deps,
        () => undefined,
      )
    ).map((f) => `${f.ref} ${JSON.stringify(f.env)}`);

  it('fetches a dependency named only by dependsOn, with the options given there, and installs it once', async () => {
    fetched.length = 0;
    assert.deepEqual(
      await refs([
        ['reg.io/f/app:1', {}],
        ['./.devcontainer/features/loc', {}],
      ]),
      ['./.devcontainer/features/loc {}', 'reg.io/f/base:1 {"LEVEL":"2"}', 'reg.io/f/app:1 {}'],
    );
    assert.deepEqual(
      await refs([
        ['reg.io/f/base:1', { level: '2' }],
        ['reg.io/f/app:1', {}],
      ]),
      ['reg.io/f/base:1 {"LEVEL":"2"}', 'reg.io/f/app:1 {}'],
    );
  });

  it('refuses what is not a feature, a file outside the feature folder, and passes the registry error on', async () => {
    await assert.rejects(
      refs([['reg.io/f/empty:1', {}]]),
      /FEATURE_NOT_FOUND|no devcontainer-feature.json and install.sh/,
    );
    await assert.rejects(refs([['reg.io/f/evil:1', {}]]), /holds a file outside its folder/);
    await assert.rejects(refs([['reg.io/f/nope:1', {}]]), /no reg\.io\/f\/nope:1/);
  });
});

describe('fetching a feature from an OCI registry', () => {
  const layer = tarBuffer([{ path: 'install.sh', type: 'file', mode: 0o755, data: '#!/bin/sh\n' }]);
  const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const manifest = (d: string) => ({
    schemaVersion: 2,
    layers: [{ mediaType: FEATURE_LAYER_TYPE, digest: d, size: layer.length }],
  });
  type Seen = Array<{ url: string; auth: string | undefined }>;
  /** A registry that wants `want` as Authorization (or a token from its token server for Bearer). */
  function fakeRegistry(opts: {
    challenge?: string;
    want?: string;
    blob?: Buffer;
    manifest?: unknown;
    status?: number;
  }) {
    const seen: Seen = [];
    const f = (async (input: string | URL, init?: RequestInit) => {
      const url = String(input);
      const auth = (init?.headers as Record<string, string> | undefined)?.authorization;
      seen.push({ url, auth });
      if (url.startsWith('https://auth.example/token'))
        return new Response(JSON.stringify({ token: 'tok' }), { status: auth === opts.want ? 200 : 401 });
      if (opts.challenge && auth === undefined)
        return new Response('', { status: 401, headers: { 'www-authenticate': opts.challenge } });
      if (opts.status) return new Response('', { status: opts.status });
      if (url.includes('/manifests/')) return new Response(JSON.stringify(opts.manifest ?? manifest(digestOf(layer))));
      return new Response(opts.blob ?? layer);
    }) as typeof fetch;
    return { seen, fetch: f };
  }
  const auth = (c?: { username: string; password: string }): OciDeps['auth'] => ({
    config: () => (c ? { auths: { '127.0.0.1:5000': { username: c.username, password: c.password } } } : undefined),
    helper: () => Promise.reject(new Error('none')),
  });
  const basic = `Basic ${Buffer.from('u:p').toString('base64')}`;

  it('answers a Basic challenge with the node credentials, over plain HTTP to a loopback registry', async () => {
    const reg = fakeRegistry({ challenge: 'Basic realm="r"', want: basic });
    const got = await fetchOciFeature('127.0.0.1:5000/f/x:1', undefined, {
      fetch: reg.fetch,
      auth: auth({ username: 'u', password: 'p' }),
    });
    assert.equal(got.digest, digestOf(layer));
    assert.deepEqual(got.tar, layer);
    assert.equal(reg.seen[0]!.url, 'http://127.0.0.1:5000/v2/f/x/manifests/1');
    assert.equal(reg.seen[1]!.auth, basic);
    assert.equal(reg.seen[2]!.url, `http://127.0.0.1:5000/v2/f/x/blobs/${digestOf(layer)}`);
  });

  it('gets a token from the Bearer realm, and takes a gzipped layer', async () => {
    const gz = gzipSync(layer);
    const reg = fakeRegistry({
      challenge: 'Bearer realm="https://auth.example/token",service="reg"',
      want: basic,
      blob: gz,
      manifest: manifest(digestOf(gz)),
    });
    const got = await fetchOciFeature('127.0.0.1:5000/f/x:1', undefined, {
      fetch: reg.fetch,
      auth: auth({ username: 'u', password: 'p' }),
    });
    assert.deepEqual(got.tar, layer);
    assert.match(reg.seen[1]!.url, /^https:\/\/auth\.example\/token\?service=reg&scope=repository%3Af%2Fx%3Apull$/);
    assert.equal(reg.seen[2]!.auth, 'Bearer tok');
  });

  it('says what went wrong: refused, missing, not a feature, damaged', async () => {
    const deps = (o: Parameters<typeof fakeRegistry>[0]) => ({ fetch: fakeRegistry(o).fetch, auth: auth() });
    await assert.rejects(
      fetchOciFeature('127.0.0.1:5000/f/x:1', undefined, deps({ challenge: 'Basic realm="r"' })),
      (e: AgentError) => {
        assert.equal(e.code, 'IMAGE_PULL_DENIED');
        assert.match(e.message, /refused \(401, no credentials\)/);
        assert.match(e.hint!, /docker login 127\.0\.0\.1:5000/);
        return true;
      },
    );
    await assert.rejects(
      fetchOciFeature('127.0.0.1:5000/f/x:1', undefined, deps({ status: 404 })),
      /FEATURE_NOT_FOUND|there is no f\/x:1 there/,
    );
    await assert.rejects(
      fetchOciFeature(
        '127.0.0.1:5000/f/x:1',
        undefined,
        deps({ manifest: { layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar' }] } }),
      ),
      /is not a Dev Container Feature/,
    );
    await assert.rejects(
      fetchOciFeature('127.0.0.1:5000/f/x:1', undefined, deps({ blob: Buffer.from('other') })),
      /not the sha256:[0-9a-f]+ its manifest names/,
    );
    await assert.rejects(fetchOciFeature('127.0.0.1:5000/f/x:1', undefined, deps({ status: 500 })), /answered 500/);
  });

  it('uses HTTPS for any other registry and reads challenges and manifests defensively', () => {
    assert.equal(registryBase('ghcr.io'), 'https://ghcr.io');
    assert.equal(registryBase('localhost:5000'), 'http://localhost:5000');
    assert.equal(registryBase('docker.io'), 'https://registry-1.docker.io');
    assert.deepEqual(parseChallenge('Bearer realm="https://a/t",service="s",scope="repository:x:pull"'), {
      scheme: 'bearer',
      params: { realm: 'https://a/t', service: 's', scope: 'repository:x:pull' },
    });
    assert.equal(parseChallenge(null), undefined);
    assert.equal(featureLayer(null), undefined);
    assert.equal(featureLayer({ layers: [{ mediaType: FEATURE_LAYER_TYPE, digest: 'sha256:short' }] }), undefined);
  });
});

describe("logins see the features' containerEnv", () => {
  it("puts the image's variables under the spec's env in the sshd config, the spec winning", () => {
    const spec = {
      name: 'w',
      provider: 'docker' as const,
      docker: { image: 'vendetta-ws/w:1' },
      env: { MARKER: 'from the config' },
      user: 'root',
      workspaceFolder: '/workspaces/w',
      authorizedKeys: [],
    };
    assert.equal(loginSpec({ spec }), spec);
    const seen = loginSpec({ spec, imageEnv: { MARKER: 'from the feature', PATH: '/opt/x/bin:/usr/bin' } });
    assert.deepEqual(seen.env, { MARKER: 'from the config', PATH: '/opt/x/bin:/usr/bin' });
    assert.match(sshdConfigText(seen).text, /^SetEnv "MARKER=from the config" "PATH=\/opt\/x\/bin:\/usr\/bin"$/m);
  });
});
