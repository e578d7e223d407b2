import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DockerWorkspaceSpec } from '../../../agent/protocol';
import { bakedDifferences, describeDifferences } from '../../../agent/workspaces/baked';
import { buildInputsHash } from '../../../coordinator/workspaces/buildInputs';

const spec = (over: Partial<DockerWorkspaceSpec> = {}): DockerWorkspaceSpec => ({
  name: 'shop',
  provider: 'docker',
  docker: { image: 'img' },
  env: {},
  user: 'root',
  workspaceFolder: '/workspaces/shop',
  authorizedKeys: ['k'],
  ...over,
});

describe('what a workspace container has baked in, and what `up` says differs', () => {
  it('names a changed build by its inputs, a new service port as unpublished, and nothing for services or keys', () => {
    const was = spec({ docker: { image: 'vendetta-ws/shop:aaaa', build: { context: '.' } } });
    const now = spec({
      docker: { image: 'vendetta-ws/shop:bbbb', build: { context: '.' }, cpus: 2, pids: 100 },
      user: 'dev',
      workspaceFolder: '/src',
      authorizedKeys: ['other'],
      services: [
        { name: 'api', command: 'x', port: 3000, env: {}, dependsOn: [], restart: 'no' },
        { name: 'db', command: 'y', port: 5432, env: {}, dependsOn: [], restart: 'no' },
      ],
    });
    assert.equal(
      describeDifferences(bakedDifferences(was, { '5432': 41000 }, now)),
      'build inputs (the Dockerfile or the files of its context) aaaa → bbbb; cpus not set → 2; pids not set → 100; user "root" → "dev"; workspaceFolder "/workspaces/shop" → "/src"; port 3000 (service api) not published on the node → published',
    );
    assert.deepEqual(bakedDifferences(spec(), {}, spec({ authorizedKeys: ['x'], hooks: { postStart: 'y' } })), []);
    const long = bakedDifferences(spec(), {}, spec({ env: { K: 'v'.repeat(100) } }))[0]!;
    assert.equal(long.now.length, 60);
  });
});

describe("the hash of a build's inputs names the built image", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-bi-'));
    mkdirSync(join(dir, 'docker'));
    writeFileSync(join(dir, 'docker', 'Dockerfile'), 'FROM x\n');
    writeFileSync(join(dir, 'app.js'), 'one');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("changes with a file of the context or the Dockerfile's name, not with files outside the context", async () => {
    const h = await buildInputsHash(dir, { context: 'docker/' });
    assert.match(h, /^[0-9a-f]{16}$/);
    writeFileSync(join(dir, 'app.js'), 'two');
    assert.equal(await buildInputsHash(dir, { context: './docker' }), h, 'outside the context');
    assert.notEqual(await buildInputsHash(dir, { context: 'docker', dockerfile: 'Dockerfile.dev' }), h);
    const whole = await buildInputsHash(dir, { context: '.' });
    writeFileSync(join(dir, 'docker', 'Dockerfile'), 'FROM y\n');
    assert.notEqual(await buildInputsHash(dir, { context: 'docker' }), h);
    assert.notEqual(await buildInputsHash(dir, { context: '.' }), whole);
  });
});
