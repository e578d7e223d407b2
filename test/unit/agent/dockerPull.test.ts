import assert from 'node:assert/strict';
import {
  nodePlatform,
  parsePullLine,
  platformMismatch,
  pullCall,
  pullError,
  PullProgress,
} from '../../../agent/providers/docker/pull';
import {
  credentialFor,
  parseImageRef,
  registryAuthHeader,
  type AuthDeps,
  type DockerConfig,
} from '../../../agent/providers/docker/registryAuth';

const deps = (
  config: DockerConfig | undefined,
  helper: AuthDeps['helper'] = async () => assert.fail('no helper expected'),
): AuthDeps => ({ config: () => config, helper });

describe('registry pulls: references, credentials from the node, progress, errors', () => {
  it('splits references into registry, name and tag or digest', () => {
    assert.deepEqual(parseImageRef('127.0.0.1:5000/vt/bb:1'), {
      registry: '127.0.0.1:5000',
      name: '127.0.0.1:5000/vt/bb',
      tag: '1',
    });
    assert.deepEqual(parseImageRef('debian'), { registry: 'docker.io', name: 'debian', tag: 'latest' });
    assert.deepEqual(parseImageRef('mcr.microsoft.com/devcontainers/base:bookworm'), {
      registry: 'mcr.microsoft.com',
      name: 'mcr.microsoft.com/devcontainers/base',
      tag: 'bookworm',
    });
    assert.deepEqual(parseImageRef('localhost/app'), { registry: 'localhost', name: 'localhost/app', tag: 'latest' });
    assert.deepEqual(parseImageRef('team/app:2@sha256:abcd'), {
      registry: 'docker.io',
      name: 'team/app',
      tag: 'sha256:abcd',
    });
    assert.deepEqual(parseImageRef('host:5000/app'), { registry: 'host:5000', name: 'host:5000/app', tag: 'latest' });
  });

  it('takes auths (base64 user:password, identity tokens) for the registry, and nothing for another', async () => {
    const config: DockerConfig = {
      auths: {
        '127.0.0.1:5001': { auth: Buffer.from('alice:s3:cret').toString('base64') },
        'https://index.docker.io/v1/': { identitytoken: 'tok' },
      },
    };
    assert.deepEqual(await credentialFor('127.0.0.1:5001', deps(config)), {
      source: 'auths',
      credential: { username: 'alice', password: 's3:cret' },
    });
    assert.deepEqual(await credentialFor('docker.io', deps(config)), {
      source: 'auths',
      credential: { identitytoken: 'tok' },
    });
    assert.equal(await credentialFor('127.0.0.1:5000', deps(config)), undefined);
    assert.equal(await credentialFor('127.0.0.1:5001', deps(undefined)), undefined, 'no config file: anonymous');
    await assert.rejects(
      credentialFor('x.io', deps({ auths: { 'x.io': { auth: Buffer.from('nocolon').toString('base64') } } })),
      /not base64 of user:password/,
    );
  });

  it("asks the registry's credential helper before credsStore, and both before auths", async () => {
    const asked: string[] = [];
    const helper = async (h: string, server: string) => (
      asked.push(`${h} ${server}`),
      JSON.stringify({ ServerURL: server, Username: h === 'tokens' ? '<token>' : 'bob', Secret: 'pw' })
    );
    const config: DockerConfig = {
      credHelpers: { 'reg.example': 'tokens' },
      credsStore: 'store',
      auths: { 'reg.example': { auth: 'eDp5' } },
    };
    assert.deepEqual(await credentialFor('reg.example', deps(config, helper)), {
      source: 'docker-credential-tokens',
      credential: { identitytoken: 'pw' },
    });
    assert.deepEqual(await credentialFor('docker.io', deps(config, helper)), {
      source: 'docker-credential-store',
      credential: { username: 'bob', password: 'pw' },
    });
    assert.deepEqual(asked, ['tokens reg.example', 'store https://index.docker.io/v1/']);
    assert.equal(
      await credentialFor(
        'other',
        deps({ credsStore: 'store' }, async () =>
          Promise.reject(new Error('credentials not found in native keychain')),
        ),
      ),
      undefined,
    );
    await assert.rejects(
      credentialFor(
        'other',
        deps({ credsStore: 'store' }, async () => Promise.reject(new Error('exec: not found'))),
      ),
      /docker-credential-store failed for other: exec: not found/,
    );
  });

  it("sends credentials as the engine's X-Registry-Auth, base64url JSON with the server", () => {
    const h = registryAuthHeader('127.0.0.1:5001', { username: 'alice', password: 'p' });
    assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), {
      username: 'alice',
      password: 'p',
      serveraddress: '127.0.0.1:5001',
    });
    assert.match(h, /^[A-Za-z0-9_-]+=*$/);
    assert.equal(h.length % 4, 0, "padded, as Go's base64.URLEncoding wants");
    const call = pullCall('127.0.0.1:5001/vt/bb', '1', 'linux/amd64', h);
    assert.deepEqual(
      [call.method, call.path, call.query, call.headers],
      [
        'POST',
        '/images/create',
        { fromImage: '127.0.0.1:5001/vt/bb', tag: '1', platform: 'linux/amd64' },
        { 'X-Registry-Auth': h },
      ],
    );
    assert.equal(pullCall('a', 'b', 'linux/amd64', undefined).headers, undefined);
  });

  it('sums the layers of a recorded pull stream into progress lines', () => {
    const lines = [
      '{"status":"Pulling from vt/bb","id":"1"}',
      '{"status":"Pulling fs layer","progressDetail":{},"id":"1998578b3b33"}',
      '{"status":"Pulling fs layer","progressDetail":{},"id":"2998578b3b33"}',
      '{"status":"Downloading","progressDetail":{"current":500000,"total":2000000},"id":"1998578b3b33"}',
      '{"status":"Downloading","progressDetail":{"current":1000000,"total":2000000},"id":"1998578b3b33"}',
      '{"status":"Download complete","progressDetail":{},"id":"1998578b3b33"}',
      '{"status":"Extracting","progressDetail":{"current":32768,"total":2000000},"id":"1998578b3b33"}',
      '{"status":"Pull complete","progressDetail":{},"id":"1998578b3b33"}',
      '{"status":"Already exists","progressDetail":{},"id":"2998578b3b33"}',
      '{"status":"Digest: sha256:e855"}',
    ];
    const p = new PullProgress();
    const changes: boolean[] = [];
    const summaries: string[] = [];
    for (const l of lines) {
      const e = parsePullLine(l);
      if (e?.kind === 'layer') {
        changes.push(p.add(e));
        summaries.push(p.summary());
      }
    }
    assert.deepEqual(
      changes,
      [true, true, true, false, true, true, true, true],
      'a new byte count alone is not a change of phase',
    );
    assert.equal(summaries[3], '0/2 layers, 1.0 of 2.0 MB');
    assert.equal(summaries[5], '0/2 layers, 2.0 of 2.0 MB, extracting');
    assert.equal(summaries.at(-1), '2/2 layers, 2.0 of 2.0 MB');
    assert.deepEqual(parsePullLine('{"error":"boom","errorDetail":{"message":"boom"}}'), {
      kind: 'error',
      message: 'boom',
    });
    assert.equal(parsePullLine(''), undefined);
  });

  it("tells a missing image, a refused pull, a wrong platform and an unreachable registry apart (the engine's own words)", () => {
    const code = (m: string) => pullError('127.0.0.1:5000/vt/x:1', '127.0.0.1:5000', m).code;
    assert.equal(
      code('manifest for 127.0.0.1:5000/vt/nope:1 not found: manifest unknown: manifest unknown'),
      'IMAGE_NOT_FOUND',
    );
    assert.equal(
      code(
        "pull access denied for nope, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
      ),
      'IMAGE_NOT_FOUND',
    );
    assert.equal(
      code('Head "http://127.0.0.1:5001/v2/vt/bb/manifests/1": no basic auth credentials'),
      'IMAGE_PULL_DENIED',
    );
    assert.equal(code('unauthorized: authentication required'), 'IMAGE_PULL_DENIED');
    assert.equal(code('no matching manifest for linux/amd64 in the manifest list entries'), 'IMAGE_PLATFORM_MISMATCH');
    assert.equal(
      code('Get "http://127.0.0.1:5009/v2/": dial tcp 127.0.0.1:5009: connect: connection refused'),
      'IMAGE_PULL_FAILED',
    );
    const denied = pullError('127.0.0.1:5001/vt/bb:1', '127.0.0.1:5001', 'unauthorized: authentication required');
    assert.equal(
      denied.message,
      'The registry 127.0.0.1:5001 refused to let this node pull 127.0.0.1:5001/vt/bb:1: unauthorized: authentication required',
    );
    assert.match(denied.hint ?? '', /`docker login 127\.0\.0\.1:5001` writes ~\/\.docker\/config\.json/);
    assert.equal(platformMismatch('x', 'linux', nodePlatform().architecture), undefined);
    assert.equal(platformMismatch('x', 'linux', 'riscv-nothing')?.code, 'IMAGE_PLATFORM_MISMATCH');
    assert.deepEqual(nodePlatform('x64'), { os: 'linux', architecture: 'amd64' });
    assert.deepEqual(nodePlatform('arm64'), { os: 'linux', architecture: 'arm64' });
  });
});
