import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { fingerprintOf, keyTypeOf, normalizeFingerprint } from '../../../coordinator/ssh/fingerprint';
import { KnownHosts, knownHostsPattern } from '../../../coordinator/ssh/knownHosts';

// Public keys and the fingerprints `ssh-keygen -lf` printed for them (OpenSSH 9.2).
const ED25519 = 'AAAAC3NzaC1lZDI1NTE5AAAAIKsag9CurEouaLnys0y9fGOOQC7kjPl9wuULgWab+TLu';
const ED25519_FP = 'SHA256:vhkPaBO6jDPaNwj5/UgHAbx9HRSRvK+op10AwK9V3YQ';
const ECDSA =
  'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBN3E2RD4r+ZqBDZlU4T/XjEABCyeC8Mzt/1R4nN4qMAMzmAbYRmm+e81TlX6bonMImXihZvseqqIYn9i3i4ltGw=';
const ECDSA_FP = 'SHA256:3AkAI3/9oc3+5Bg/nz6TV6fg7aCy4PIMkDHsemtOhsg';

const blob = (b64: string) => Buffer.from(b64, 'base64');

describe('host key fingerprints', () => {
  it('match what ssh-keygen -lf prints', () => {
    assert.equal(fingerprintOf(blob(ED25519)), ED25519_FP);
    assert.equal(fingerprintOf(blob(ECDSA)), ECDSA_FP);
  });

  it('read the key type inside a blob and refuse a malformed one', () => {
    assert.equal(keyTypeOf(blob(ED25519)), 'ssh-ed25519');
    assert.equal(keyTypeOf(blob(ECDSA)), 'ecdsa-sha2-nistp256');
    assert.throws(() => keyTypeOf(Buffer.from([0, 0])));
    assert.throws(() => keyTypeOf(Buffer.from([0, 0, 1, 0, 65])));
    assert.throws(() => keyTypeOf(Buffer.from([0, 0, 0, 3, 0x3b, 0x20, 0x0a])));
  });

  it('normalize the ways a person may type a fingerprint', () => {
    assert.equal(normalizeFingerprint(ED25519_FP), ED25519_FP);
    assert.equal(normalizeFingerprint(' sha256:' + ED25519_FP.slice(7) + '= '), ED25519_FP);
    assert.equal(normalizeFingerprint(ED25519_FP.slice(7)), ED25519_FP);
    assert.equal(normalizeFingerprint('MD5:aa:bb'), undefined);
    assert.equal(normalizeFingerprint('SHA256:short'), undefined);
  });
});

describe('the known_hosts file of pinned keys', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-kh-'));
    file = join(dir, 'sub', 'known_hosts');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('names hosts the way OpenSSH does', () => {
    assert.equal(knownHostsPattern('build-1', 22), 'build-1');
    assert.equal(knownHostsPattern('10.0.0.5', 2222), '[10.0.0.5]:2222');
    assert.equal(knownHostsPattern('::1', 2222), '[::1]:2222');
  });

  it('finds nothing before anything is pinned (no file at all)', () => {
    assert.equal(new KnownHosts(file).lookup('build-1', 22), undefined);
  });

  it('writes OpenSSH lines, 0600, and finds them again', async () => {
    const kh = new KnownHosts(file);
    await kh.pin('build-1', 22, 'ssh-ed25519', blob(ED25519));
    await kh.pin('10.0.0.5', 2222, 'ecdsa-sha2-nistp256', blob(ECDSA));
    assert.equal(
      readFileSync(file, 'utf8'),
      `build-1 ssh-ed25519 ${ED25519}\n[10.0.0.5]:2222 ecdsa-sha2-nistp256 ${ECDSA}\n`,
    );
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const hit = kh.lookup('build-1', 22);
    assert.equal(hit?.keyType, 'ssh-ed25519');
    assert.equal(hit?.fingerprint, ED25519_FP);
    assert.ok(hit?.key.equals(blob(ED25519)));
    assert.equal(kh.lookup('10.0.0.5', 2222)?.fingerprint, ECDSA_FP);
    assert.equal(kh.lookup('10.0.0.5', 22), undefined, 'another port is another host');
    assert.equal(kh.lookup('BUILD-1', 22)?.fingerprint, ED25519_FP, 'host names are case-insensitive');
  });

  it('replaces the pin of a host instead of adding a second one, keeping other lines', async () => {
    const kh = new KnownHosts(file);
    await kh.pin('a', 22, 'ssh-ed25519', blob(ED25519));
    const before = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      '# a comment\n@cert-authority *.example.com ssh-ed25519 ' +
        ED25519 +
        '\n' +
        before +
        'other,a ssh-ed25519 ' +
        ED25519 +
        ' kept comment\n',
    );
    await kh.pin('a', 22, 'ecdsa-sha2-nistp256', blob(ECDSA));
    assert.equal(
      readFileSync(file, 'utf8'),
      [
        '# a comment',
        '@cert-authority *.example.com ssh-ed25519 ' + ED25519,
        'other ssh-ed25519 ' + ED25519 + ' kept comment',
        'a ecdsa-sha2-nistp256 ' + ECDSA,
        '',
      ].join('\n'),
    );
    assert.equal(kh.lookup('a', 22)?.fingerprint, ECDSA_FP);
    assert.equal(kh.lookup('other', 22)?.fingerprint, ED25519_FP);
  });

  it('removes a pin and only that pin', async () => {
    const kh = new KnownHosts(file);
    await kh.pin('a', 22, 'ssh-ed25519', blob(ED25519));
    await kh.pin('b', 22, 'ssh-ed25519', blob(ED25519));
    await kh.remove('a', 22);
    assert.equal(kh.lookup('a', 22), undefined);
    assert.equal(kh.lookup('b', 22)?.fingerprint, ED25519_FP);
    await kh.remove('nothing-here', 22);
  });

  it('understands hashed entries (ssh-keygen -H) and removes them too', async () => {
    const salt = Buffer.alloc(20, 7);
    const hash = createHmac('sha1', salt).update('[10.1.2.3]:2200').digest('base64');
    const kh = new KnownHosts(join(dir, 'kh'));
    writeFileSync(join(dir, 'kh'), `|1|${salt.toString('base64')}|${hash} ssh-ed25519 ${ED25519}\n`);
    assert.equal(kh.lookup('10.1.2.3', 2200)?.fingerprint, ED25519_FP);
    assert.equal(kh.lookup('10.1.2.3', 22), undefined);
    await kh.remove('10.1.2.3', 2200);
    assert.equal(readFileSync(join(dir, 'kh'), 'utf8'), '');
  });

  it('ignores a damaged line and refuses to pin a key under the wrong type', async () => {
    const kh = new KnownHosts(join(dir, 'kh2'));
    writeFileSync(join(dir, 'kh2'), 'a ssh-ed25519 !!!notbase64\nb ssh-rsa ' + ED25519 + '\njunk\n');
    assert.equal(kh.lookup('a', 22), undefined);
    assert.equal(kh.lookup('b', 22), undefined, 'the blob says ed25519, the line says rsa');
    await assert.rejects(kh.pin('c', 22, 'ssh-rsa', blob(ED25519)), /type ssh-ed25519/);
  });

  it('keeps every pin when many are written at once', async () => {
    const kh = new KnownHosts(file);
    await Promise.all(Array.from({ length: 30 }, (_, i) => kh.pin(`h${i}`, 22, 'ssh-ed25519', blob(ED25519))));
    for (let i = 0; i < 30; i++) assert.ok(kh.lookup(`h${i}`, 22), `h${i}`);
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 30);
  });
});
