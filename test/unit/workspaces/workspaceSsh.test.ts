import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { duplexPair, PassThrough } from 'node:stream';
import { utils } from 'ssh2';
import type { VendettaError } from '../../../coordinator/errors';
import { KnownHosts } from '../../../coordinator/ssh/knownHosts';
import { connectWorkspace } from '../../../coordinator/workspaces/workspaceSsh';

describe('an SSH session with a workspace', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-wsssh-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives up with TUNNEL_FAILED, and nothing uncaught after, when the workspace never finishes the handshake', async () => {
    const keys = utils.generateKeyPairSync('ed25519');
    const identityFile = join(dir, 'id');
    writeFileSync(identityFile, keys.private, { mode: 0o600 });
    const knownHostsFile = join(dir, 'known_hosts');
    const [, blob] = keys.public.split(' ');
    await new KnownHosts(knownHostsFile).pin('shop.b1.vendetta', 22, 'ssh-ed25519', Buffer.from(blob!, 'base64'));
    // The workspace's end reads what the client says and never answers.
    const [ours, theirs] = duplexPair();
    theirs.pipe(new PassThrough()).resume();
    const started = Date.now();
    await assert.rejects(
      connectWorkspace({
        sock: ours,
        alias: 'shop.b1.vendetta',
        user: 'dev',
        identityFile,
        knownHostsFile,
        timeoutMs: 200,
      }),
      (e: VendettaError) => {
        assert.equal(e.code, 'TUNNEL_FAILED');
        assert.match(e.hint ?? '', /vendetta workspace status/);
        return true;
      },
    );
    assert.ok(Date.now() - started < 5_000);
  });
});
