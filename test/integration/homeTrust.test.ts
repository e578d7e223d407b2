/**
 * The built CLI refuses a VENDETTA_HOME that someone else controls before it reads anything from
 * it, connects to its socket or starts a coordinator there; a normal home works.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireRoot } from '../infra/sys';
import { createCliHome, type CliHome, type CliResult } from './coordinatorHarness';

/** A uid that owns nothing on the machine. */
const TEST_UID = 4243;

function refusedNaming(r: CliResult, path: string, hint: RegExp): void {
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.ok(r.stderr.includes(`error: Refusing to use ${path}: it `), r.stderr);
  assert.match(r.stderr, /^hint: .+$/m);
  assert.match(r.stderr, hint);
}

describe('the CLI and the coordinator refuse a home that someone else controls', function () {
  let h: CliHome;

  before(function () {
    requireRoot(this, 'the untrusted-home suite (it gives a file to another uid)');
    h = createCliHome();
    mkdirSync(h.home, { mode: 0o700 });
    writeFileSync(h.nodesFile, 'nodes: []\n', { mode: 0o600 });
    writeFileSync(join(h.home, 'known_hosts'), '', { mode: 0o600 });
  });

  after(async function () {
    this.timeout(60_000);
    if (!h) return;
    // Whatever a failed test left, the home is made the user's again so cleanup can stop the coordinator.
    chmodSync(h.home, 0o700);
    if (existsSync(join(h.home, 'known_hosts'))) chownSync(join(h.home, 'known_hosts'), 0, 0);
    await h.cleanup();
  });

  it('a group-writable home: every command that opens it, and the coordinator itself, refuse it with the chmod that fixes it', async () => {
    chmodSync(h.home, 0o770);
    try {
      refusedNaming(await h.run(['node', 'list']), h.home, new RegExp(`chmod 700 ${h.home}`));
      refusedNaming(await h.run(['coordinator', 'run']), h.home, /chmod 700/);
      const userHome = join(h.dir, 'user-home');
      refusedNaming(await h.run(['ssh-config', 'install'], { env: { HOME: userHome } }), h.home, /chmod 700/);
      assert.equal(
        existsSync(join(userHome, '.ssh', 'config')),
        false,
        '~/.ssh/config does not include an untrusted file',
      );
      refusedNaming(await h.run(['workspace', 'ssh', 'hello', '--node', 'local']), h.home, /chmod 700/);
      const json = await h.run(['node', 'list', '--json']);
      assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'HOME_UNTRUSTED');
      assert.equal(existsSync(h.socket), false, 'no coordinator was started there');
    } finally {
      chmodSync(h.home, 0o700);
    }
  });

  it('a symlinked nodes.yaml is refused, not followed', async () => {
    const elsewhere = join(h.dir, 'elsewhere.yaml');
    writeFileSync(elsewhere, 'nodes: []\n', { mode: 0o600 });
    rmSync(h.nodesFile);
    symlinkSync(elsewhere, h.nodesFile);
    try {
      refusedNaming(await h.run(['node', 'list']), h.nodesFile, /symbolic link/);
    } finally {
      rmSync(h.nodesFile);
      writeFileSync(h.nodesFile, 'nodes: []\n', { mode: 0o600 });
    }
  });

  it('a known_hosts owned by another uid is refused', async () => {
    const kh = join(h.home, 'known_hosts');
    chownSync(kh, TEST_UID, TEST_UID);
    try {
      refusedNaming(await h.run(['node', 'list']), kh, new RegExp(`owned by uid ${TEST_UID}`));
    } finally {
      chownSync(kh, 0, 0);
    }
  });

  it('a normal home works', async function () {
    this.timeout(60_000);
    const r = await h.run(['node', 'list', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Array.isArray(JSON.parse(r.stdout)), r.stdout);
    assert.equal(readFileSync(h.nodesFile, 'utf8'), 'nodes: []\n');
  });
});
