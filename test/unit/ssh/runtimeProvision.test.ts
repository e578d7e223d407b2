import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VendettaError } from '../../../coordinator/errors';
import { compareVersions, readElfNeeds } from '../../../coordinator/ssh/elfNeeds';
import { readLocalRuntime, type LocalRuntime } from '../../../coordinator/ssh/localRuntime';
import { FACTS_SCRIPT, parseFacts, parseLibc, type NodeFacts } from '../../../coordinator/ssh/nodeFacts';
import { runtimeOffers } from '../../../coordinator/ssh/provideRuntime';
import { isUploadedRuntime, uploadCompatibility } from '../../../coordinator/ssh/runtimeUpload';
import { shScript } from '../../../coordinator/ssh/shellQuote';

const P = 'vendetta-probe: ';

function facts(over: Partial<NodeFacts> = {}): NodeFacts {
  return {
    os: 'Linux',
    arch: 'x86_64',
    libc: { family: 'glibc', version: '2.36' },
    user: 'dev',
    uid: 1000,
    groups: ['dev'],
    sudo: 'none',
    packageManager: 'apt',
    distro: { id: 'debian', version: '12', name: 'Debian GNU/Linux 12 (bookworm)' },
    systemd: false,
    init: 'init',
    commands: [],
    ...over,
  };
}

function local(over: Partial<LocalRuntime['needs']> = {}): LocalRuntime {
  return {
    path: '/usr/bin/node',
    version: 'v20.1.0',
    platform: 'linux',
    needs: { machine: 'x86_64', dynamic: true, glibc: '2.28', ...over },
    sha256: 'a'.repeat(64),
    size: 99e6,
    dirName: 'node-v20.1.0-x86_64-aaaaaaaaaaaa',
  };
}

describe('what a node needs to run this Node.js (ELF needs, node facts, compatibility)', () => {
  it('reads the machine and the highest GLIBC_/GLIBCXX_ versions a real executable asks for', async () => {
    const fh = await open(process.execPath, 'r');
    try {
      const needs = await readElfNeeds(async (o, l) => {
        const b = Buffer.alloc(l);
        const { bytesRead } = await fh.read(b, 0, l, o);
        return b.subarray(0, bytesRead);
      });
      assert.equal(needs.machine, process.arch === 'x64' ? 'x86_64' : needs.machine);
      assert.equal(needs.dynamic, true);
      assert.match(needs.glibc ?? '', /^2\.\d+$/);
      // Cross-checked with objdump where it exists.
      const od = spawnSync('objdump', ['-T', process.execPath], { encoding: 'utf8', maxBuffer: 1 << 28 });
      if (od.status === 0) {
        const all = [...od.stdout.matchAll(/GLIBC_(\d+\.\d+(?:\.\d+)?)/g)].map((m) => m[1]!).sort(compareVersions);
        assert.equal(needs.glibc, all[all.length - 1]);
      }
    } finally {
      await fh.close();
    }
  });

  it('a static executable needs no C library; a file that is not ELF is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elf-'));
    try {
      const hdr = Buffer.alloc(64);
      hdr.writeUInt32BE(0x7f454c46, 0);
      hdr[4] = 2;
      hdr[5] = 1;
      hdr.writeUInt16LE(183, 18); // aarch64, no program headers: static
      const at = (b: Buffer) => async (o: number, l: number) => b.subarray(o, o + l);
      assert.deepEqual(await readElfNeeds(at(hdr)), { machine: 'aarch64', dynamic: false });
      await assert.rejects(readElfNeeds(at(Buffer.from('#!/bin/sh\necho hi\n'.padEnd(64)))), /no ELF magic/);
      const script = join(dir, 'node');
      writeFileSync(script, '#!/bin/sh\n'.padEnd(80), { mode: 0o755 });
      await assert.rejects(
        readLocalRuntime(script, { version: 'v20.0.0', platform: 'linux' }),
        (e: unknown) =>
          e instanceof VendettaError &&
          e.code === 'NODE_RUNTIME_MISSING' &&
          /not an executable vendetta can check/.test(e.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses to offer a Node.js it cannot upload: another OS, or Electron's binary", async () => {
    await assert.rejects(
      readLocalRuntime(process.execPath, { version: 'v20.0.0', platform: 'darwin' }),
      /runs on darwin/,
    );
    await assert.rejects(
      readLocalRuntime(process.execPath, { version: 'v20.0.0', platform: 'linux', electron: '34.0.0' }),
      /inside Electron 34\.0\.0/,
    );
    const r = await readLocalRuntime();
    assert.equal(r.version, process.version);
    assert.match(r.dirName, new RegExp(`^node-${process.version.replace(/\./g, '\\.')}-\\w+-[0-9a-f]{12}$`));
  });

  it('compares versions numerically', () => {
    assert.ok(compareVersions('2.34', '2.4') > 0);
    assert.equal(compareVersions('2.28', '2.28.0'), 0);
    assert.ok(compareVersions('2.17', '2.28') < 0);
  });

  it("reads the C library from ldd, getconf or musl's loader", () => {
    assert.deepEqual(parseLibc('ldd (Debian GLIBC 2.36-9+deb12u4) 2.36', '', false), {
      family: 'glibc',
      version: '2.36',
    });
    assert.deepEqual(parseLibc('ldd (GNU libc) 2.38', '', false), { family: 'glibc', version: '2.38' });
    assert.deepEqual(parseLibc('ldd (Ubuntu GLIBC 2.35-0ubuntu3.8) 2.35', 'glibc 2.35', false), {
      family: 'glibc',
      version: '2.35',
    });
    assert.deepEqual(parseLibc('musl libc (x86_64)', '', true), { family: 'musl' });
    assert.deepEqual(parseLibc('', 'glibc 2.31', false), { family: 'glibc', version: '2.31' });
    assert.deepEqual(parseLibc('sh: ldd: not found', '', true), { family: 'musl' });
    assert.deepEqual(parseLibc('sh: ldd: not found', '', false), { family: 'unknown' });
  });

  it('parses what the facts script printed, ignoring noise', () => {
    const f = parseFacts(
      [
        'motd noise',
        `${P}os Linux`,
        `${P}arch aarch64`,
        `${P}ldd ldd (GNU libc) 2.31`,
        `${P}getconf glibc 2.31`,
        `${P}user dev 1000`,
        `${P}groups dev adm`,
        `${P}sudo passwordless`,
        `${P}pm apt-get`,
        `${P}distro ubuntu 20.04 Ubuntu 20.04.6 LTS`,
        `${P}systemd`,
        `${P}init systemd`,
        `${P}has docker`,
        `${P}has qemu-img`,
      ].join('\n'),
    );
    assert.deepEqual(f, {
      os: 'Linux',
      arch: 'aarch64',
      libc: { family: 'glibc', version: '2.31' },
      user: 'dev',
      uid: 1000,
      groups: ['dev', 'adm'],
      sudo: 'passwordless',
      packageManager: 'apt',
      distro: { id: 'ubuntu', version: '20.04', name: 'Ubuntu 20.04.6 LTS' },
      systemd: true,
      init: 'systemd',
      commands: ['docker', 'qemu-img'],
    });
  });

  it('the facts script runs under sh and reports this machine', () => {
    const r = spawnSync('/bin/bash', ['-c', shScript(FACTS_SCRIPT)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const f = parseFacts(r.stdout);
    assert.equal(f.os, 'Linux');
    assert.equal(f.arch, spawnSync('uname', ['-m'], { encoding: 'utf8' }).stdout.trim());
    assert.equal(f.libc.family, 'glibc');
    assert.equal(f.uid, process.getuid?.());
    assert.equal(f.sudo, process.getuid?.() === 0 ? 'root' : f.sudo);
    assert.equal(f.init, readFileSync('/proc/1/comm', 'utf8').trim());
  });

  it('uploads only where kernel, machine and C library fit', () => {
    assert.deepEqual(uploadCompatibility(local(), facts()), { ok: true });
    assert.deepEqual(uploadCompatibility(local(), facts({ arch: 'amd64' })), { ok: true });
    assert.deepEqual(uploadCompatibility(local({ machine: 'aarch64' }), facts({ arch: 'arm64' })), { ok: true });
    assert.match(reason(uploadCompatibility(local(), facts({ os: 'FreeBSD' }))), /runs FreeBSD/);
    assert.match(
      reason(uploadCompatibility(local(), facts({ arch: 'aarch64' }))),
      /is aarch64, and this Node\.js is built for x86_64/,
    );
    assert.match(reason(uploadCompatibility(local(), facts({ libc: { family: 'musl' } }))), /musl/);
    assert.match(
      reason(uploadCompatibility(local(), facts({ libc: { family: 'unknown' } }))),
      /could not be identified/,
    );
    assert.match(
      reason(uploadCompatibility(local(), facts({ libc: { family: 'glibc', version: '2.17' } }))),
      /glibc 2\.17, and this Node\.js needs 2\.28/,
    );
    // A static build needs no C library at all.
    assert.deepEqual(
      uploadCompatibility(local({ dynamic: false, glibc: undefined }), facts({ libc: { family: 'musl' } })),
      { ok: true },
    );
  });

  it('offers the upload first, then the package manager, each saying whether it can work here', () => {
    const [up, pkg] = runtimeOffers(facts({ sudo: 'passwordless' }), local());
    assert.equal(up?.kind, 'upload');
    assert.equal(up?.ok, true);
    assert.match(up?.detail ?? '', /v20\.1\.0 \(99 MB, x86_64, needs glibc 2\.28; the node has 2\.36\)/);
    assert.equal(pkg?.kind, 'package');
    assert.equal(pkg?.ok, true);
    assert.deepEqual(pkg?.commands, [
      'sudo env DEBIAN_FRONTEND=noninteractive apt-get update',
      'sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs',
    ]);

    const none = runtimeOffers(facts({ sudo: 'password', packageManager: undefined, arch: 'riscv64' }), local());
    assert.deepEqual(
      none.map((o) => o.ok),
      [false, false],
    );
    assert.match(none[1]!.detail, /no package manager vendetta knows/);
    const pw = runtimeOffers(facts({ sudo: 'password' }), new VendettaError('NODE_RUNTIME_MISSING', 'inside Electron'));
    assert.equal(pw[0]!.detail, 'inside Electron');
    assert.match(pw[1]!.detail, /has no passwordless sudo/);
  });

  it('knows an uploaded runtime by its path', () => {
    assert.equal(isUploadedRuntime('/home/u/.vendetta-agent/runtime/node-v20-x86_64-abc/bin/node'), true);
    assert.equal(isUploadedRuntime('/usr/bin/node'), false);
    assert.equal(isUploadedRuntime(undefined), false);
  });
});

function reason(c: { ok: boolean; reason?: string }): string {
  return c.ok ? '' : (c.reason ?? '');
}
