import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshBanner } from '../../../agent/providers/qemu/bootWait';
import { putFilesInput } from '../../../agent/providers/qemu/guestCommand';

describe('QEMU: several files into the guest in one command, a tar stream on its stdin', () => {
  let d: string;
  beforeEach(() => (d = mkdtempSync(join(tmpdir(), 'vendetta-qemu-files-'))));
  afterEach(() => rmSync(d, { recursive: true, force: true }));
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;

  it('writes each file whole with its mode, an empty one and every byte value included', () => {
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const text = Buffer.from("Port 2222\nit's\n");
    const files = [
      { path: join(d, 'etc/a key'), type: 'file' as const, mode: 0o600, uid, gid, content: binary },
      { path: join(d, 'empty'), type: 'file' as const, mode: 0o644, uid, gid, content: Buffer.alloc(0) },
      { path: join(d, 'folder'), type: 'directory' as const, mode: 0o700, uid, gid, content: Buffer.alloc(0) },
      { path: join(d, "etc/it's"), type: 'file' as const, mode: 0o640, uid, gid, content: text },
    ];
    const put = putFilesInput(files);
    execFileSync('sh', ['-c', put.command], { input: put.stdin });
    assert.deepEqual(readFileSync(join(d, 'etc/a key')), binary);
    assert.equal(readFileSync(join(d, 'empty'), 'utf8'), '');
    assert.equal(readFileSync(join(d, "etc/it's"), 'utf8'), text.toString());
    const mode = (p: string) => (statSync(join(d, p)).mode & 0o7777).toString(8);
    assert.deepEqual(
      [mode('etc/a key'), mode('empty'), mode('folder'), mode("etc/it's")],
      ['600', '644', '700', '640'],
    );
  });

  it('puts no file in place when one cannot be written, and refuses a path that is not absolute and normal', () => {
    writeFileSync(join(d, 'plain'), 'x');
    writeFileSync(join(d, 'after'), 'old');
    const files = [
      { path: join(d, 'plain/under'), type: 'file' as const, mode: 0o600, uid, gid, content: Buffer.from('a') },
      { path: join(d, 'after'), type: 'file' as const, mode: 0o600, uid, gid, content: Buffer.from('b') },
    ];
    const put = putFilesInput(files);
    assert.throws(() => execFileSync('sh', ['-c', put.command], { input: put.stdin, stdio: 'pipe' }));
    assert.equal(readFileSync(join(d, 'after'), 'utf8'), 'old');
    const bad = (path: string) => putFilesInput([{ path, type: 'file', mode: 0o600, content: Buffer.alloc(0) }]);
    assert.throws(() => bad('etc/x'), /not an absolute, normal path/);
    assert.throws(() => bad('/etc/../x'), /not an absolute, normal path/);
  });
});

describe('QEMU: the boot wait looks for an SSH server before it logs in', () => {
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  after(() => {
    for (const s of sockets) s.destroy();
    for (const s of servers) s.close();
  });
  const serve = (onConnect: (s: Socket) => void): Promise<number> =>
    new Promise((resolve) => {
      const server = createServer((s) => {
        sockets.push(s);
        onConnect(s);
      });
      servers.push(server);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });

  it('an SSH greeting is a server; silence (a forwarded port of a guest still booting) is not, within the wait', async () => {
    const ssh = await serve((s) => s.write('SSH-2.0-OpenSSH_9.2p1\r\n'));
    assert.equal(await sshBanner(ssh, 2_000), true);
    const silent = await serve(() => undefined);
    const t0 = Date.now();
    assert.equal(await sshBanner(silent, 300), false);
    assert.ok(Date.now() - t0 < 2_000, 'it gave up after its wait');
  });

  it('another protocol, a closed connection and a refused port are not an SSH server', async () => {
    const http = await serve((s) => s.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
    assert.equal(await sshBanner(http, 2_000), false);
    const closing = await serve((s) => s.end());
    assert.equal(await sshBanner(closing, 2_000), false);
    const gone = await serve(() => undefined);
    await new Promise<void>((r) => servers.pop()!.close(() => r()));
    assert.equal(await sshBanner(gone, 2_000), false);
  });
});
