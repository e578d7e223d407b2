import assert from 'node:assert/strict';
import { setUpGuest } from '../../../agent/providers/qemu/guestSetup';
import { parseFind, parseHashes } from '../../../agent/providers/qemu/guestTree';
import type { GuestConnection } from '../../../agent/providers/qemu/guestSsh';
import { startFakeGuest, type FakeGuest } from './fakeGuest';

/**
 * How the project folder is set up in the guest after a boot, against an in-process ssh2 server
 * standing in for the guest's control sshd: it refuses the 9p mount (a kernel without 9p), makes
 * folders, and installs the sshd unit; each command it ran is kept.
 */
describe('QEMU: the project folder in the guest is the 9p share, or a folder for the copy when there is no 9p', function () {
  let guest: FakeGuest;
  let conn: GuestConnection;
  let ran: string[] = [];
  let mountWorks = false;

  before(async () => {
    guest = await startFakeGuest(({ command, channel: ch }) => {
      ran.push(command);
      const refused = command.includes('mount -t 9p') && !mountWorks;
      ch.on('data', () => undefined); // the unit on stdin
      const answer = (): void => {
        if (refused) ch.stderr.write("mount: /w: unknown filesystem type '9p'.\n");
        ch.exit(refused ? 32 : 0);
        ch.end();
      };
      if (command.includes('vendetta-unit')) ch.once('end', answer);
      else answer();
    });
    conn = guest.conn;
  });

  after(() => guest?.close());

  const setUp = (share: 'auto' | '9p' | 'ssh', said: string[] = []) =>
    setUpGuest(conn, {
      pending: [],
      workspaceFolder: '/w',
      ssh: { binary: '/usr/sbin/sshd', configPath: '/etc/vendetta/sshd_config' },
      share,
      progress: (m) => said.push(m),
    });

  it('auto: 9p when the guest mounts it, else a folder for the copy, said so', async () => {
    mountWorks = true;
    ran = [];
    assert.equal(await setUp('auto'), '9p');
    assert.ok(!ran.includes("mkdir -p '/w'"), 'the share is the folder');
    mountWorks = false;
    ran = [];
    const said: string[] = [];
    assert.equal(await setUp('auto', said), 'ssh');
    assert.match(
      said.join('\n'),
      /cannot mount the project over 9p \(mount: \/w: unknown filesystem type '9p'\.\): it gets a copy over SSH/,
    );
    assert.ok(ran.includes("mkdir -p '/w'"), ran.join('\n'));
    assert.ok(
      ran.some((c) => c.includes('vendetta-unit')),
      "the workspace's sshd is still set up",
    );
  });

  it('9p: a guest without it is an error naming the cause and the way out; ssh: no mount is tried', async () => {
    await assert.rejects(setUp('9p'), (err: Error & { hint?: string }) => {
      assert.match(err.message, /could not mount the project folder at \/w \(exit 32\)/);
      assert.match(err.hint ?? '', /9p and 9pnet_virtio.*qemu\.projectShare: ssh.*unknown filesystem type/);
      return true;
    });
    ran = [];
    assert.equal(await setUp('ssh'), 'ssh');
    assert.ok(!ran.some((c) => c.includes('mount -t 9p')), ran.join('\n'));
  });
});

describe("QEMU: the guest's find and sha256sum records, read back", () => {
  it('keeps names with spaces and line breaks whole, and an escaped name of sha256sum', () => {
    const records = [
      ['./a b', 'f', '644', '3', '1.5', '2.25', '7', ''],
      ['./l', 'l', '777', '1', '1', '1', '9', '../x'],
    ];
    const found = parseFind(Buffer.from(records.map((r) => r.map((f) => `${f}\0`).join('')).join('')));
    assert.deepEqual(found.get('a b'), {
      type: 'f',
      link: '',
      stat: { size: 3, mtimeMs: 1500, ctimeMs: 2250, ino: 7, mode: 0o100644 },
    });
    assert.deepEqual([found.get('l')?.type, found.get('l')?.link, found.get('l')?.stat.mode], ['l', '../x', 0o120777]);
    const hex = 'a'.repeat(64);
    const hashes = parseHashes(Buffer.from(`${hex}  ./new\nline\0\\${hex}  ./back\\slash\0${hex} *./bin\0junk\0`));
    assert.deepEqual(
      [...hashes],
      [
        ['new\nline', hex],
        ['back\\slash', hex],
        ['bin', hex],
      ],
    );
  });
});
