import assert from 'node:assert/strict';
import { authFailed, sshAlgorithms } from '../../../coordinator/ssh/connect';
import { hostPort, sshDestination } from '../../../coordinator/ssh/target';

describe('SSH connection settings', () => {
  it('offers modern algorithms first', () => {
    const a = sshAlgorithms();
    assert.equal((a.kex as string[])[0], 'curve25519-sha256');
    assert.equal((a.serverHostKey as string[])[0], 'ssh-ed25519');
    assert.deepEqual((a.cipher as string[]).slice(0, 3), [
      'aes128-gcm@openssh.com',
      'aes256-gcm@openssh.com',
      'chacha20-poly1305@openssh.com',
    ]);
    for (const list of [a.kex, a.cipher, a.hmac] as string[][]) {
      assert.ok(!list.some((x) => /sha1|cbc|md5|group1-/.test(x)), `no legacy algorithm in ${list.join(',')}`);
    }
  });

  it('asks for the pinned key type first, so the pin is what the node presents', () => {
    assert.deepEqual((sshAlgorithms('ecdsa-sha2-nistp256').serverHostKey as string[]).slice(0, 2), [
      'ecdsa-sha2-nistp256',
      'ssh-ed25519',
    ]);
    assert.deepEqual((sshAlgorithms('ssh-rsa').serverHostKey as string[]).slice(0, 3), [
      'rsa-sha2-512',
      'rsa-sha2-256',
      'ssh-rsa',
    ]);
    const ed = sshAlgorithms('ssh-ed25519').serverHostKey as string[];
    assert.equal(new Set(ed).size, ed.length, 'no duplicates');
  });

  it('says how to install the key when auth fails, port included', () => {
    const t = { name: 'b1', host: '10.0.0.5', port: 2222, user: 'dev' };
    const err = authFailed(t, { publicKeyPath: '/home/me/.vendetta/keys/id_ed25519.pub' });
    assert.equal(err.code, 'AUTH_FAILED');
    assert.match(
      err.hint ?? '',
      /ssh-copy-id -i \/home\/me\/\.vendetta\/keys\/id_ed25519\.pub -p 2222 dev@10\.0\.0\.5/,
    );
    assert.match(err.message, /dev@10\.0\.0\.5 refused the SSH key \(tried \/home\/me\/\.vendetta\/keys\/id_ed25519\)/);
    const viaAgent = authFailed({ ...t, port: 22 }, { agent: '/run/agent.sock' });
    assert.match(viaAgent.hint ?? '', /ssh-copy-id dev@10\.0\.0\.5/);
    assert.match(viaAgent.message, /the keys in your ssh-agent/);
  });

  it('formats destinations for messages', () => {
    assert.equal(sshDestination({ host: 'h', port: 22, user: 'u' }), 'u@h');
    assert.equal(sshDestination({ host: 'h', port: 2200, user: 'u' }), '-p 2200 u@h');
    assert.equal(hostPort('::1', 22), '[::1]:22');
    assert.equal(hostPort('h', 22), 'h:22');
  });
});
