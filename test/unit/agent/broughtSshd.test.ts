import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../../agent/errors';
import {
  BROUGHT_SSHD_MOUNT,
  broughtSshdArgv,
  packNodeSshd,
  parseLdd,
  sshdAccountFiles,
} from '../../../agent/providers/broughtSshd';

const fixture = readFileSync(join(__dirname, '../../fixtures/agent/ldd-sshd-debian12.txt'), 'utf8');
const text = (f: { content?: string | Buffer } | undefined): string => String(f?.content ?? '');

describe('the SSH server the agent brings into an image without one', () => {
  it('reads what ldd lists: every library under its soname, and the dynamic loader', () => {
    const { libraries, loader } = parseLdd(fixture);
    assert.equal(loader, '/lib64/ld-linux-x86-64.so.2');
    assert.ok(libraries.some((l) => l.name === 'libcrypto.so.3' && l.path === '/lib/x86_64-linux-gnu/libcrypto.so.3'));
    assert.ok(libraries.some((l) => l.name === 'libc.so.6'));
    assert.ok(!libraries.some((l) => l.name.startsWith('linux-vdso')), "the vDSO is the kernel's, not a file");
    assert.throws(
      () => parseLdd('\tlibfoo.so.1 => not found\n\t/lib64/ld-linux-x86-64.so.2 (0x1)\n'),
      /libfoo\.so\.1 is not found/,
    );
    assert.throws(() => parseLdd('\tnot a dynamic executable\n'), /no dynamic loader/);
  });

  it('runs through its own loader and libraries, in the foreground, without re-executing itself', () => {
    assert.deepEqual(broughtSshdArgv('ld-linux-x86-64.so.2', '/etc/vendetta/sshd_config'), [
      `${BROUGHT_SSHD_MOUNT}/ld-linux-x86-64.so.2`,
      '--library-path',
      `${BROUGHT_SSHD_MOUNT}/lib`,
      `${BROUGHT_SSHD_MOUNT}/sshd`,
      '-D',
      '-e',
      '-r',
      '-f',
      '/etc/vendetta/sshd_config',
    ]);
  });

  it('adds root and the privilege-separation user only where the image lacks them', () => {
    const none = sshdAccountFiles(undefined, undefined);
    assert.deepEqual(
      none.map((f) => [f.path, f.type]),
      [
        ['/etc', 'directory'],
        ['/etc/passwd', 'file'],
        ['/etc/group', 'file'],
        ['/root', 'directory'],
      ],
    );
    assert.equal(
      text(none[1]),
      'root:x:0:0:root:/root:/bin/sh\nsshd:x:100:65534:sshd privilege separation:/run/sshd:/bin/false\n',
    );
    assert.equal(text(none[2]), 'root:x:0:\n');
    const debian =
      'root:x:0:0:root:/root:/bin/bash\n_apt:x:100:65534::/nonexistent:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n';
    const some = sshdAccountFiles(debian, 'root:x:0:\nnogroup:x:65534:\n');
    assert.deepEqual(
      some.map((f) => f.path),
      ['/etc', '/etc/passwd'],
      'the group file stays as it is',
    );
    assert.equal(
      text(some[1]),
      `${debian}sshd:x:101:65534:sshd privilege separation:/run/sshd:/bin/false\n`,
      "a free uid, the image's lines untouched",
    );
    assert.deepEqual(sshdAccountFiles(`${debian}sshd:x:105:65534::/run/sshd:/usr/sbin/nologin\n`, 'root:x:0:\n'), []);
  });

  describe("packs this machine's own sshd", () => {
    let home: string;
    before(function () {
      if (!existsSync('/usr/sbin/sshd')) this.skip(); // only where OpenSSH's server is installed (test/infra/setup.sh installs it)
      home = mkdtempSync(join(tmpdir(), 'vendetta-brought-'));
    });
    after(() => home && rmSync(home, { recursive: true, force: true }));

    it('into one folder named by its content, which runs with nothing but itself', async () => {
      const packed = await packNodeSshd(home, '/etc/vendetta/sshd_config');
      assert.equal(packed.mountPath, BROUGHT_SSHD_MOUNT);
      assert.match(packed.nodeDir, new RegExp(`^${home}/sshd/[0-9a-f]{24}$`));
      assert.ok(readdirSync(join(packed.nodeDir, 'lib')).includes('libcrypto.so.3'));
      // Run exactly as inside a workspace, with the folder in place of the mount point.
      const argv = packed.argv.map((a) => a.replace(BROUGHT_SSHD_MOUNT, packed.nodeDir));
      const r = spawnSync(argv[0]!, [...argv.slice(1, 4), '-V'], { encoding: 'utf8', env: {} });
      assert.match(r.stderr, /^OpenSSH_\d/, r.stderr);
      const again = await packNodeSshd(home, '/etc/vendetta/sshd_config');
      assert.equal(again.nodeDir, packed.nodeDir);
      assert.deepEqual(readdirSync(join(home, 'sshd')), [packed.nodeDir.split('/').pop()], 'no temporary folder left');
    });

    it('refuses with SSHD_MISSING and a hint when the node has no sshd', async () => {
      const err = await packNodeSshd(home, '/c', join(home, 'no-sshd')).catch((e: unknown) => e);
      assert.ok(err instanceof AgentError);
      assert.equal(err.code, 'SSHD_MISSING');
      assert.match(err.message, /no-sshd is not on the node/);
      assert.match(err.hint ?? '', /Install openssh-server on the node/);
    });
  });
});
