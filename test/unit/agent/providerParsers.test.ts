import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProbeOutcome } from '../../../agent/providers/contract';
import {
  DEFAULT_DOCKER_SOCKET,
  dockerSocket,
  dockerStatusFrom,
  parseDockerVersion,
} from '../../../agent/providers/docker/detect';
import {
  lxcStatusFrom,
  lxdSocketCandidates,
  parseLxcToolsVersion,
  parseLxdServer,
} from '../../../agent/providers/lxc/detect';
import type { KvmVerdict } from '../../../agent/providers/qemu/accel';
import { detectQemu, parseQemuVersion, qemuBinary, qemuStatusFrom } from '../../../agent/providers/qemu/detect';

const fixture = (name: string): string => readFileSync(join(__dirname, '../../fixtures/agent', name), 'utf8');
const ok = (body: string): ProbeOutcome => ({ ok: true, status: 200, body });
const fail = (code: string, message = code): ProbeOutcome => ({ ok: false, code, message });

describe('docker detection reads the Engine API', () => {
  it('takes version and API version from a recorded /version answer', () => {
    assert.deepEqual(parseDockerVersion(fixture('docker-version-20.10.json')), {
      version: '20.10.24+dfsg1',
      apiVersion: '1.41',
    });
    const status = dockerStatusFrom('/var/run/docker.sock', ok(fixture('docker-version-20.10.json')), 2000);
    assert.deepEqual(status, {
      available: true,
      socket: '/var/run/docker.sock',
      version: '20.10.24+dfsg1',
      apiVersion: '1.41',
    });
  });

  it('refuses answers that are not a Docker /version', () => {
    for (const body of ['', 'not json', '[]', '{"Version": 3}', '{"Version": ""}', 'null'])
      assert.equal(parseDockerVersion(body), undefined, body);
    const status = dockerStatusFrom('/s', ok('{"hello":1}'), 2000);
    assert.equal(status.available, false);
    assert.match(status.error!, /does not answer like a Docker engine/);
  });

  it('explains each way the socket can fail', () => {
    const s = '/var/run/docker.sock';
    assert.equal(
      dockerStatusFrom(s, fail('ENOENT'), 2000).error,
      'no Docker engine answers on /var/run/docker.sock (the socket does not exist)',
    );
    assert.match(dockerStatusFrom(s, fail('ENOENT'), 2000).hint!, /Install Docker/);
    assert.match(
      dockerStatusFrom(s, fail('ECONNREFUSED'), 2000).error!,
      /no Docker engine answers on .*connection refused/,
    );
    const denied = dockerStatusFrom(s, fail('EACCES'), 2000);
    assert.equal(denied.error, 'permission denied on /var/run/docker.sock');
    assert.match(denied.hint!, /docker group/);
    assert.match(dockerStatusFrom(s, fail('ETIMEDOUT'), 2000).error!, /did not answer within 2 s/);
    assert.match(
      dockerStatusFrom(s, { ok: false, code: 'HTTP500', message: 'HTTP 500', status: 500 }, 2000).error!,
      /answered HTTP 500/,
    );
    assert.match(
      dockerStatusFrom(s, fail('EPROTO', 'bad things'), 2000).error!,
      /cannot reach the Docker engine on .*: bad things/,
    );
  });

  it('finds the socket from DOCKER_HOST', () => {
    assert.deepEqual(dockerSocket({}), { socket: DEFAULT_DOCKER_SOCKET });
    assert.deepEqual(dockerSocket({ DOCKER_HOST: ' ' }), { socket: DEFAULT_DOCKER_SOCKET });
    assert.deepEqual(dockerSocket({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }), {
      socket: '/run/user/1000/docker.sock',
    });
    const tcp = dockerSocket({ DOCKER_HOST: 'tcp://10.0.0.1:2375' });
    assert.ok('error' in tcp && /not a Unix socket/.test(tcp.error));
    assert.ok('error' in dockerSocket({ DOCKER_HOST: 'unix://' }));
    // No DOCKER_HOST: this user's rootless engine when its socket exists, else the system one.
    const rootless = dockerSocket({}, { uid: 1000, exists: (p) => p === '/run/user/1000/docker.sock' });
    assert.deepEqual(rootless, { socket: '/run/user/1000/docker.sock' });
    assert.deepEqual(dockerSocket({}, { uid: 1000, exists: () => false }), { socket: DEFAULT_DOCKER_SOCKET });
    assert.deepEqual(dockerSocket({ DOCKER_HOST: 'unix:///x.sock' }, { uid: 1000, exists: () => true }), {
      socket: '/x.sock',
    });
  });
});

describe('lxc detection asks the LXD/Incus API; the lxc-* tools alone are not enough', () => {
  const root = { uid: 0, gid: 0 };
  const lxdBody = fixture('lxd-1.0-5.0.2.json');
  const candidates = lxdSocketCandidates({});
  const noSockets = candidates.map((candidate) => ({ candidate, outcome: fail('ENOENT') }));

  it('reads the server version from a recorded LXD /1.0 answer', () => {
    assert.deepEqual(parseLxdServer(lxdBody, root), {
      version: '5.0.2',
      backend: 'lxd',
      projectFolder: 'mapped-owner',
    });
    assert.deepEqual(parseLxdServer('{"metadata":{"environment":{"server":"incus","server_version":"6.0.1"}}}', root), {
      version: '6.0.1',
      backend: 'incus',
      projectFolder: 'mapped-owner',
    });
    const shiftfs =
      '{"metadata":{"environment":{"server":"lxd","server_version":"5.0.2","kernel_features":{"shiftfs":"true"}}}}';
    assert.equal(parseLxdServer(shiftfs, { uid: 1000, gid: 1000 })?.projectFolder, 'shift');
    assert.equal(
      parseLxdServer(lxdBody, { uid: 1000, gid: 1000 })?.projectFolder,
      'raw.idmap',
      'an agent that is not root maps its ids instead',
    );
    for (const body of ['', '{}', '{"metadata":{}}', '{"metadata":{"environment":{"server_version":5}}}'])
      assert.equal(parseLxdServer(body), undefined, body);
  });

  it('reads the version lxc-start prints', () => {
    assert.equal(parseLxcToolsVersion(fixture('lxc-start-version-5.0.2.txt')), '5.0.2');
    assert.equal(parseLxcToolsVersion('4.0.12~ubuntu\n'), '4.0.12~ubuntu');
    assert.equal(parseLxcToolsVersion('lxc-start: unknown option\n'), undefined);
  });

  it("looks at the daemons' own dirs first, then the package defaults", () => {
    const list = lxdSocketCandidates({ LXD_DIR: '/tmp/lxd', INCUS_DIR: '/tmp/incus' }).map(
      (c) => `${c.backend}:${c.socket}`,
    );
    assert.deepEqual(list.slice(0, 2), ['incus:/tmp/incus/unix.socket', 'lxd:/tmp/lxd/unix.socket']);
    assert.ok(list.includes('incus:/var/lib/incus/unix.socket'));
    assert.ok(list.includes('lxd:/var/snap/lxd/common/lxd/unix.socket'));
    assert.ok(list.includes('lxd:/var/lib/lxd/unix.socket'));
  });

  it('reports the API socket that answers, even when the tools exist too', () => {
    const sockets = noSockets.map((s) =>
      s.candidate.socket === '/var/lib/lxd/unix.socket' ? { ...s, outcome: ok(lxdBody) } : s,
    );
    assert.deepEqual(lxcStatusFrom({ sockets, tools: ok('5.0.2\n') }, 2000, root), {
      available: true,
      version: '5.0.2',
      backend: 'lxd',
      socket: '/var/lib/lxd/unix.socket',
      projectFolder: 'mapped-owner',
    });
  });

  it('with only the classic tools: unavailable, saying to install LXD or Incus', () => {
    const tools = lxcStatusFrom({ sockets: noSockets, tools: ok(fixture('lxc-start-version-5.0.2.txt')) }, 2000);
    assert.deepEqual([tools.available, tools.backend, tools.version], [false, 'lxc-tools', '5.0.2']);
    assert.equal(
      tools.error,
      'only the classic lxc-* tools (5.0.2) are installed, and no LXD/Incus API socket answers',
    );
    assert.match(tools.hint!, /Install LXD \(`apt install lxd`, then `lxd init`\) or Incus/);
  });

  it('says what it looked for when there is nothing', () => {
    const none = lxcStatusFrom({ sockets: noSockets, tools: fail('ENOENT') }, 2000);
    assert.equal(none.available, false);
    assert.match(
      none.error!,
      /no LXD\/Incus API socket answers \(looked at .*\/var\/lib\/incus\/unix.socket.*\) and lxc-start is not installed/,
    );
    assert.match(none.hint!, /Install LXD/);
  });

  it('prefers the failure of a socket that exists over "not installed"', () => {
    const sockets = noSockets.map((s) =>
      s.candidate.socket === '/var/snap/lxd/common/lxd/unix.socket' ? { ...s, outcome: fail('EACCES') } : s,
    );
    const denied = lxcStatusFrom({ sockets, tools: fail('ENOENT') }, 2000);
    assert.equal(denied.error, 'permission denied on /var/snap/lxd/common/lxd/unix.socket');
    assert.match(denied.hint!, /lxd group/);
    const odd = lxcStatusFrom(
      { sockets: [{ candidate: candidates[0]!, outcome: ok('{"x":1}') }], tools: fail('EXIT1', 'boom') },
      2000,
    );
    assert.match(odd.error!, /does not answer like LXD or Incus/);
    const broken = lxcStatusFrom({ sockets: noSockets, tools: fail('EXIT1', 'boom') }, 2000);
    assert.match(broken.error!, /lxc-start failed: boom/);
  });
});

describe('qemu detection runs the system emulator and checks /dev/kvm', () => {
  it('reads the version from recorded `qemu-system-x86_64 --version` output', () => {
    assert.equal(parseQemuVersion(fixture('qemu-version-7.2.txt')), '7.2.22');
    assert.equal(parseQemuVersion('QEMU emulator version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1)\n'), '8.2.2');
    assert.equal(parseQemuVersion('QEMU emulator version 9.0\n'), '9.0');
    assert.equal(parseQemuVersion('qemu: command not found'), undefined);
  });

  it("probes the emulator of this machine's architecture", () => {
    assert.equal(qemuBinary('x64'), 'qemu-system-x86_64');
    assert.equal(qemuBinary('arm64'), 'qemu-system-aarch64');
    assert.equal(qemuBinary('mips'), 'qemu-system-mips');
  });

  it('reports version and KVM', () => {
    const s = qemuStatusFrom('qemu-system-x86_64', ok(fixture('qemu-version-7.2.txt')), ok(''), 2000);
    assert.deepEqual(s, { available: true, version: '7.2.22', binary: 'qemu-system-x86_64', kvm: true });
  });

  it('explains a missing emulator and an unusable /dev/kvm', () => {
    const s = qemuStatusFrom('qemu-system-aarch64', fail('ENOENT'), fail('EACCES'), 2000);
    assert.equal(s.available, false);
    assert.equal(s.error, 'qemu-system-aarch64 is not installed (not found on PATH)');
    assert.match(s.hint!, /apt-get install qemu-system-arm/);
    assert.equal(s.kvm, false);
    assert.match(s.kvmError!, /kvm group/);
    assert.match(qemuStatusFrom('q', ok('1'), fail('ENOENT'), 2000).kvmError!, /does not exist/);
    assert.match(
      qemuStatusFrom('q', ok('QEMU emulator version 1.2'), fail('EIO', 'io'), 2000).kvmError!,
      /not usable: io/,
    );
    assert.match(qemuStatusFrom('q', ok('garbage'), ok(''), 2000).error!, /printed no QEMU version/);
    assert.match(qemuStatusFrom('q', fail('ETIMEDOUT'), ok(''), 2000).error!, /did not answer within 2 s/);
    assert.match(qemuStatusFrom('q', fail('EXIT1', 'segfault'), ok(''), 2000).error!, /failed: segfault/);
  });
  it('says KVM unless the accelerator probe of a QEMU start since the boot found it broken or slow', async () => {
    const runner = (access: ProbeOutcome) => ({
      run: (probe: { kind: string }) =>
        Promise.resolve(probe.kind === 'access' ? access : ok('QEMU emulator version 7.2.22')),
    });
    const asked: string[] = [];
    const known = (verdict: KvmVerdict | undefined) => (binary: string) => {
      asked.push(binary);
      return verdict;
    };
    const slow = 'KVM did not finish a test guest within 2000 ms where software emulation took 147 ms';
    const s = await detectQemu('x64', runner(ok('')), 500, known({ slow }));
    assert.equal(s.kvm, false);
    assert.equal(s.kvmError, `${slow}; VMs run under TCG unless qemu.accel says kvm`);
    assert.equal((await detectQemu('x64', runner(ok('')), 500, known({ broken: 'exit 1' }))).kvm, false);
    assert.equal((await detectQemu('x64', runner(ok('')), 500, known({}))).kvm, true);
    assert.equal(
      (await detectQemu('x64', runner(ok('')), 500, known(undefined))).kvm,
      true,
      'no QEMU start since the boot: the device is all there is to go on',
    );
    asked.length = 0;
    assert.equal((await detectQemu('x64', runner(fail('EACCES')), 500, known({}))).kvm, false);
    assert.deepEqual(asked, [], 'no verdict looked at without the device');
  });
});
