import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprintOfLine, generateHostKey } from '../../../agent/workspaces/hostKey';

function sshKeygen(args: string[]): string {
  const r = spawnSync('ssh-keygen', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `ssh-keygen ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

describe('workspace host keys made by the agent are keys OpenSSH accepts', () => {
  let dir: string;
  before(function () {
    // No OpenSSH client on this machine: off CI skip; under CI (setup installs it) it must run.
    if (spawnSync('ssh-keygen', ['-?']).error && process.env.CI !== 'true') this.skip(); // no ssh-keygen off CI
    dir = mkdtempSync(join(tmpdir(), 'vendetta-hostkey-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a private key from which ssh-keygen derives the same public key and fingerprint', () => {
    for (let i = 0; i < 5; i++) {
      const key = generateHostKey(`vendetta-workspace-t${i}`);
      const file = join(dir, `key${i}`);
      writeFileSync(file, key.privateKeyPem, { mode: 0o600 });
      const derived = sshKeygen(['-y', '-f', file]).split(' ');
      assert.equal(`${derived[0]} ${derived[1]}`, key.publicKey);
      assert.equal(derived[2], `vendetta-workspace-t${i}`, 'the comment travels in the private key');
      const listed = sshKeygen(['-l', '-f', file]);
      assert.equal(listed.split(' ')[1], key.fingerprint, listed);
      assert.match(listed, /\(ED25519\)$/);
      assert.equal(key.type, 'ssh-ed25519');
    }
  });

  it('computes fingerprints the way ssh-keygen -lf prints them, for keys it did not make', () => {
    const file = join(dir, 'made-by-ssh-keygen');
    sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-C', 'x', '-f', file]);
    const pub = readFileSync(`${file}.pub`, 'utf8');
    assert.equal(fingerprintOfLine(pub), sshKeygen(['-l', '-f', `${file}.pub`]).split(' ')[1]);
  });

  it('makes a new key each time, in the PEM-armoured openssh-key-v1 format', () => {
    const a = generateHostKey('a');
    const b = generateHostKey('a');
    assert.notEqual(a.publicKey, b.publicKey);
    assert.match(
      a.privateKeyPem,
      /^-----BEGIN OPENSSH PRIVATE KEY-----\n([A-Za-z0-9+/=]{1,70}\n)+-----END OPENSSH PRIVATE KEY-----\n$/,
    );
    const body = Buffer.from(a.privateKeyPem.split('\n').slice(1, -2).join(''), 'base64');
    assert.equal(body.subarray(0, 15).toString('latin1'), 'openssh-key-v1\0');
    assert.throws(() => fingerprintOfLine('ssh-ed25519'), /not an OpenSSH public key/);
  });
});
