/**
 * QEMU faults and inputs that need no guest boot, through the agent's own WorkspaceManager and a
 * real QEMU (TCG here): a guest that never comes up (a disk whose boot sector prints one line
 * and halts, so the console timeout is reached in seconds), a base image named by URL served
 * from loopback (a wrong checksum keeps nothing; the right one is downloaded once), and the
 * seed's format. The booted VM's life (up, exec, ssh, services, stop/start, a killed QEMU, an
 * agent restart, rm) runs in the shared lifecycle suite (lifecycle.test.ts, row qemu), in one
 * VM's life.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nullLogger } from '../../agent/log/logger';
import type { QemuSettings, QemuWorkspaceSpec } from '../../agent/protocol';
import { QemuProvider } from '../../agent/providers/qemu/provider';
import { seedImage } from '../../agent/providers/qemu/seed';
import { livePid } from '../../agent/providers/qemu/vmProcess';
import { WorkspaceManager } from '../../agent/workspaces/manager';
import { requireCommands, requireRoot } from '../infra/sys';

const BINARY = 'qemu-system-x86_64';

/**
 * A 1 MiB raw disk whose boot sector writes one line to the serial port (COM1) and halts:
 * SeaBIOS boots it in a second or two even under TCG, and no SSH server ever answers.
 *   xor ax,ax; mov ds,ax; mov si,msg; mov dx,0x3f8
 *   l: lodsb; test al,al; jz h; out dx,al; jmp l
 *   h: cli; hlt; jmp h
 */
function haltingDisk(): Buffer {
  const code = Buffer.from('31c08ed8be167cbaf803ac84c07403eeebf8faf4ebfc', 'hex');
  const disk = Buffer.alloc(1024 * 1024);
  code.copy(disk, 0);
  Buffer.from('vendetta test disk: no operating system here, halting\r\n\0').copy(disk, code.length);
  disk[510] = 0x55;
  disk[511] = 0xaa;
  return disk;
}

describe('QEMU workspaces without a guest boot: a guest that never comes up, a base image by URL, the seed', function () {
  this.timeout(300_000);
  let dir: string;
  let home: string;
  let server: Server | undefined;
  let base = '';
  const requests: string[] = [];
  const files: Record<string, Buffer> = {};

  const providerFor = (bootTimeoutMs: number): QemuProvider =>
    new QemuProvider({
      root: join(home, 'qemu'),
      binary: BINARY,
      bootTimeoutMs: { kvm: bootTimeoutMs, tcg: bootTimeoutMs },
    });
  const managerFor = (p: QemuProvider): WorkspaceManager =>
    new WorkspaceManager({
      home,
      stateDir: join(home, 'state'),
      logger: nullLogger,
      providers: () => p,
      sshReadyTimeoutMs: 20_000,
    });
  const spec = (name: string, qemu: QemuSettings): QemuWorkspaceSpec => ({
    name,
    provider: 'qemu',
    qemu: { accel: 'auto', cpus: 1, memoryBytes: 256 * 1024 * 1024, ...qemu },
    env: {},
    user: 'root',
    workspaceFolder: `/workspaces/${name}`,
    authorizedKeys: [],
  });
  const noQemuLeft = (p: QemuProvider) => {
    for (const id of p.store.ids()) {
      const f = p.store.files(id);
      assert.equal(livePid(f.pid, f.qmp), undefined, `no QEMU process is left for ${id}`);
    }
  };

  before(async function () {
    requireRoot(this, 'the QEMU suite');
    requireCommands(this, 'the QEMU suite', [BINARY, 'qemu-img']);
    dir = mkdtempSync(join(tmpdir(), 'vendetta-qemu-it-'));
    home = join(dir, 'agent');
    mkdirSync(join(home, 'state'), { recursive: true });
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const body = files[req.url ?? ''];
      if (!body) return res.writeHead(404).end('no such file\n');
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    files['/halt.raw'] = haltingDisk();
  });

  after(async () => {
    server?.close();
    if (!home) return;
    // Whatever a failed case left running is ended by its pid file, then the folder goes.
    const p = providerFor(1000);
    for (const id of p.store.ids()) await p.remove(id).catch(() => undefined);
    p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a guest that never boots: up says TCG or KVM, streams the console, fails with its tail, and leaves no QEMU', async () => {
    const disk = join(dir, 'halt.raw');
    writeFileSync(disk, haltingDisk());
    const impatient = providerFor(15_000);
    const progress: string[] = [];
    try {
      const t0 = Date.now();
      const err = await managerFor(impatient)
        .create(spec('never', { image: disk }), (_s, _t, m) => progress.push(m))
        .then(
          () => assert.fail('the create should fail'),
          (e: unknown) => e as Error & { hint?: string },
        );
      assert.ok(Date.now() - t0 < 120_000, 'no real boot was waited for');
      assert.match(err.message, /did not come up: the guest did not answer on SSH within 15 s/);
      assert.match(err.hint ?? '', /last console lines:\n[\s\S]*vendetta test disk: no operating system here/);
      assert.ok(
        progress.some((m) => /^QEMU uses (TCG, software emulation, about 10× slower than KVM|KVM)/.test(m)),
        progress.join('\n'),
      );
      assert.ok(
        progress.includes('console: vendetta test disk: no operating system here, halting'),
        'the boot console is shown as progress',
      );
      noQemuLeft(impatient);
      await managerFor(impatient).remove('never', true);
      assert.deepEqual(impatient.store.ids(), [], 'rm leaves no VM folder (overlay, seed, sockets)');
    } finally {
      impatient.close();
    }
  });

  it('a base image by URL: a wrong sha256 or a missing file is a clear error that keeps nothing', async () => {
    const p = providerFor(15_000);
    try {
      const wrong = 'ab'.repeat(32);
      const err = await managerFor(p)
        .create(spec('byurl', { image: `${base}/halt.raw`, imageSha256: wrong }))
        .then(
          () => assert.fail('the create should fail'),
          (e: unknown) => e as Error & { code?: string; hint?: string },
        );
      const actual = createHash('sha256').update(files['/halt.raw']!).digest('hex');
      assert.equal(err.code, 'IMAGE_PULL_FAILED');
      assert.equal(
        err.message,
        `The base image downloaded from ${base}/halt.raw has the sha256 ${actual}, not ${wrong}`,
      );
      assert.match(err.hint ?? '', /nothing was kept/);
      assert.deepEqual(existsSync(p.images.dir) ? readdirSync(p.images.dir) : [], [], 'no image, no partial file');
      assert.deepEqual(p.store.ids(), [], 'no VM folder');

      const gone = await managerFor(p)
        .create(spec('byurl', { image: `${base}/nothing.qcow2`, imageSha256: wrong }))
        .then(
          () => assert.fail('the create should fail'),
          (e: unknown) => e as Error & { code?: string },
        );
      assert.equal(gone.code, 'IMAGE_PULL_FAILED');
      assert.equal(
        gone.message,
        `The node could not download the base image ${base}/nothing.qcow2: HTTP 404 Not Found`,
      );
      assert.deepEqual(existsSync(p.images.dir) ? readdirSync(p.images.dir) : [], []);
      await managerFor(p)
        .remove('byurl', true)
        .catch(() => undefined);
    } finally {
      p.close();
    }
  });

  it('a base image by URL with the right sha256 is downloaded once, cached under it, and shared', async () => {
    const p = providerFor(15_000);
    try {
      const sha = createHash('sha256').update(files['/halt.raw']!).digest('hex');
      requests.length = 0;
      const said: string[] = [];
      const first = await p.images.ensure(`${base}/halt.raw`, sha, (m) => said.push(m));
      const second = await p.images.ensure(`${base}/halt.raw`, sha, () => undefined);
      assert.equal(first, second);
      assert.deepEqual(readFileSync(first), files['/halt.raw']);
      assert.deepEqual(requests, ['/halt.raw'], 'one download for two uses');
      assert.match(said.join('\n'), new RegExp(`^Downloading the base image ${base}/halt.raw \\(once`));
      assert.deepEqual(readdirSync(p.images.dir), [`${sha}.img`]);
      // Two at once still download once.
      rmSync(first);
      requests.length = 0;
      await Promise.all([1, 2].map(() => p.images.ensure(`${base}/halt.raw`, sha, () => undefined)));
      assert.deepEqual(requests, ['/halt.raw']);
    } finally {
      p.close();
    }
  });

  it('the seed is an ISO 9660 volume labelled cidata holding user-data and meta-data', function () {
    requireCommands(this, 'the seed check', ['isoinfo']);
    const seed = join(dir, 'seed-check.iso');
    writeFileSync(
      seed,
      seedImage({
        instanceId: 'i-1',
        hostname: 'h',
        hostKey: { privateKeyPem: 'PEM', publicKey: 'ssh-ed25519 AAAA' },
        controlPublicKey: 'ssh-ed25519 BBBB',
      }),
    );
    const d = spawnSync('isoinfo', ['-d', '-i', seed], { encoding: 'utf8' });
    assert.match(d.stdout, /Volume id: cidata/);
    const meta = spawnSync('isoinfo', ['-i', seed, '-x', '/META-DATA;1'], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(meta.stdout), { 'instance-id': 'i-1', 'local-hostname': 'h' });
  });
});
