import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VendettaError } from '../../coordinator/errors';
import { homePaths, type HomePaths } from '../../coordinator/home';
import { assertTrustedHome, trustedHomePaths } from '../../coordinator/homeTrust';

/** A uid that owns nothing here (tests run as root in CI, which may give files away). */
const OTHER_UID = 4242;

/** Refused with HOME_UNTRUSTED, the message naming `path`, and `hint` matching the message or the hint. */
function refused(paths: HomePaths, path: string, hint: RegExp, uid?: number): void {
  assert.throws(
    () => assertTrustedHome(paths, uid),
    (err: unknown) => {
      assert.ok(err instanceof VendettaError, String(err));
      assert.equal(err.code, 'HOME_UNTRUSTED');
      assert.ok(err.message.includes(path), err.message);
      assert.match(`${err.message}\n${err.hint ?? ''}`, hint);
      return true;
    },
  );
}

describe('a VENDETTA_HOME that someone else controls is refused', () => {
  let dir: string;
  let paths: HomePaths;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-trust-'));
    paths = homePaths(join(dir, 'home'));
    mkdirSync(paths.root, { mode: 0o700 });
    mkdirSync(paths.keysDir, { mode: 0o700 });
    mkdirSync(join(paths.stateDir, 'sync'), { recursive: true, mode: 0o700 });
    writeFileSync(join(paths.keysDir, 'id_ed25519'), 'key', { mode: 0o600 });
    writeFileSync(join(paths.stateDir, 'workspaces.json'), '{}', { mode: 0o600 });
    writeFileSync(paths.nodesFile, 'nodes: []\n', { mode: 0o644 });
    writeFileSync(paths.knownHosts, '', { mode: 0o600 });
    writeFileSync(paths.sshConfig, '', { mode: 0o600 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("accepts the user's own home, and one not made yet", () => {
    assertTrustedHome(paths);
    assert.equal(trustedHomePaths(paths.root).sshConfig, paths.sshConfig);
    assertTrustedHome(homePaths(join(dir, 'not-yet')));
  });

  it('refuses a home or a file others can write, with the chmod that fixes it', () => {
    chmodSync(paths.root, 0o770);
    refused(paths, paths.root, new RegExp(`chmod 700 ${paths.root}`));
    chmodSync(paths.root, 0o700);
    chmodSync(paths.knownHosts, 0o606);
    refused(paths, paths.knownHosts, new RegExp(`chmod go-w ${paths.knownHosts}`));
    chmodSync(paths.knownHosts, 0o600);
    chmodSync(join(paths.keysDir, 'id_ed25519'), 0o620);
    refused(paths, join(paths.keysDir, 'id_ed25519'), /chmod go-w/);
    chmodSync(join(paths.keysDir, 'id_ed25519'), 0o600);
    chmodSync(join(paths.stateDir, 'sync'), 0o777);
    refused(paths, join(paths.stateDir, 'sync'), /chmod 700/);
  });

  it('refuses a symlinked home or file instead of following it', () => {
    const real = join(dir, 'real-nodes.yaml');
    writeFileSync(real, 'nodes: []\n', { mode: 0o600 });
    rmSync(paths.nodesFile);
    symlinkSync(real, paths.nodesFile);
    refused(paths, paths.nodesFile, /Replace the link/);
    rmSync(paths.nodesFile);
    const link = join(dir, 'link-home');
    symlinkSync(paths.root, link);
    refused(homePaths(link), link, /realpath/);
    symlinkSync(real, join(paths.stateDir, 'planted'));
    refused(paths, join(paths.stateDir, 'planted'), /Replace the link/);
  });

  it('refuses what another user owns, and a file where a folder belongs', () => {
    refused(paths, paths.root, /chown/, OTHER_UID);
    if (process.getuid?.() === 0) {
      chownSync(paths.sshConfig, OTHER_UID, OTHER_UID);
      refused(paths, paths.sshConfig, new RegExp(`owned by uid ${OTHER_UID}`));
      chownSync(paths.sshConfig, 0, 0);
    }
    rmSync(paths.keysDir, { recursive: true });
    writeFileSync(paths.keysDir, '');
    refused(paths, paths.keysDir, /Move it away/);
  });
});
