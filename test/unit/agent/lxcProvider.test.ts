import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  execBody,
  fileHeaders,
  instanceCreateBody,
  instanceName,
  labelFromKey,
  labelKey,
  lxdCalls,
  operationPath,
} from '../../../agent/providers/lxc/api';
import { lxdSocket } from '../../../agent/providers/lxc/detect';
import { folderMapping, folderMappingText, nodeSideId } from '../../../agent/providers/lxc/idmap';
import {
  asyncOperation,
  execReturn,
  parseAliasTarget,
  parseExecFds,
  parseInstance,
  parseInstanceList,
  parseOperation,
  parseServerFacts,
  syncMetadata,
} from '../../../agent/providers/lxc/parse';
import { takenNodePort } from '../../../agent/providers/lxc/refusals';
import { pushWaves, sshdUnitFiles, sshdUnitText } from '../../../agent/providers/lxc/systemd';
import { validLxc } from '../../../agent/handlers/lxcSpecParams';

const SSH = {
  binary: '/usr/sbin/sshd',
  configPath: '/etc/vendetta/sshd_config',
  bring: () => Promise.reject(new Error('not brought')),
};
const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(__dirname, '../../fixtures/agent', name), 'utf8'));

describe('LXD replies recorded from LXD 5.0.2 read as workspaces', () => {
  it('reads a running instance made with a proxy device per port: its workspace, labels, state, node ports, project folder', () => {
    const ws = parseInstance(syncMetadata(fixture('lxd-instance-running.json'), 'x'));
    assert.deepEqual(
      [ws.name, ws.providerId, ws.state, ws.image, ws.sshPort, ws.nodeFolder],
      ['rec', 'vendetta-rec', 'running', 'vendetta-test/debian-bookworm', 41022, '/tmp'],
    );
    assert.deepEqual(ws.publishedPorts, { '22': 41022, '8080': 41080 });
    assert.deepEqual(ws.labels, {
      'dev.vendetta.workspace': 'rec',
      'dev.vendetta.agent-home': '/home/u/.vendetta-agent',
      'dev.vendetta.image': 'vendetta-test/debian-bookworm',
    });
    assert.ok(ws.startedAt && ws.createdAt);
  });

  it('reads SSH and service ports from one proxy device, the n-th listen port to the n-th connect port', () => {
    const ws = parseInstance(syncMetadata(fixture('lxd-instance-running-ports.json'), 'x'));
    assert.deepEqual([ws.name, ws.state, ws.sshPort], ['rec', 'running', 41022]);
    assert.deepEqual(ws.publishedPorts, { '22': 41022, '8080': 41080 });
  });

  it('ignores a proxy device whose port lists do not pair up, or that is not on the loopback', () => {
    const running = syncMetadata(fixture('lxd-instance-running-ports.json'), 'x') as Record<string, unknown>;
    const withPorts = (dev: Record<string, string>) =>
      parseInstance({ ...running, devices: { 'vendetta-ports': { type: 'proxy', bind: 'host', ...dev } } });
    assert.deepEqual(
      withPorts({ listen: 'tcp:127.0.0.1:41022,41080', connect: 'tcp:127.0.0.1:22' }).publishedPorts,
      {},
    );
    assert.deepEqual(withPorts({ listen: 'tcp:0.0.0.0:41022', connect: 'tcp:127.0.0.1:22' }).publishedPorts, {});
    assert.deepEqual(
      withPorts({ listen: 'tcp:127.0.0.1:41022-41023', connect: 'tcp:127.0.0.1:22,80' }).publishedPorts,
      {},
    );
    assert.deepEqual(withPorts({ listen: 'tcp:127.0.0.1:0', connect: 'tcp:127.0.0.1:22' }).publishedPorts, {});
    assert.equal(withPorts({ listen: 'tcp:127.0.0.1:41022', connect: 'tcp:127.0.0.1:22' }).sshPort, 41022);
  });

  it('reads a never-started instance as created, without ports', () => {
    const ws = parseInstance(syncMetadata(fixture('lxd-instance-created.json'), 'x'));
    assert.equal(ws.state, 'created');
    assert.equal(ws.sshPort, undefined);
    assert.equal(ws.publishedPorts, undefined);
  });

  it('lists only instances with the workspace key', () => {
    const reply = fixture('lxd-instances.json') as { metadata: unknown[] };
    const foreign = { name: 'someone-else', status: 'Running', config: { 'user.other': 'x' }, devices: {} };
    const list = parseInstanceList({ ...reply, metadata: [...reply.metadata, foreign] });
    assert.deepEqual(
      list.map((w) => w.providerId),
      ['vendetta-rec'],
    );
  });

  it('reads states LXD reports besides running and stopped as errors with the reason', () => {
    const base = {
      name: 'vendetta-x',
      config: { 'user.vendetta.workspace': 'x' },
      devices: {},
      last_used_at: '2026-12-05T06:00:00Z',
    };
    assert.equal(parseInstance({ ...base, status: 'Stopped' }).state, 'stopped');
    assert.match(parseInstance({ ...base, status: 'Frozen' }).error!, /frozen/);
    assert.equal(parseInstance({ ...base, status: 'Error' }).state, 'error');
    assert.throws(() => parseInstance({ status: 'Running' }), /instance without a name/);
  });

  it("follows operations: started, done, failed with LXD's words whole", () => {
    const op = asyncOperation(fixture('lxd-instance-create-async.json'), 'create');
    assert.match(op.path, /^\/1\.0\/operations\/[0-9a-f-]{36}$/);
    assert.deepEqual(parseOperation(fixture('lxd-operation-create-done.json')).running, false);
    assert.equal(parseOperation(fixture('lxd-operation-create-done.json')).error, undefined);
    const failed = parseOperation(fixture('lxd-operation-start-port-taken.json'));
    assert.match(failed.error!, /address already in use/);
    assert.equal(takenNodePort(failed.error!), 41080);
    assert.equal(takenNodePort('Failed to start device "root": out of space'), undefined);
    assert.equal(parseOperation({ type: 'sync', metadata: { status_code: 103, metadata: {} } }).running, true);
    assert.throws(() => asyncOperation({ type: 'sync', metadata: {} }, 'create'), /did not start an operation/);
  });

  it("reads an exec's websocket secrets and its exit code", () => {
    const op = asyncOperation(fixture('lxd-exec-async.json'), 'exec');
    const fds = parseExecFds(op.metadata);
    assert.ok(fds.stdin && fds.stdout && fds.stderr && fds.control);
    assert.equal(execReturn(parseOperation(fixture('lxd-operation-exec-done.json')).metadata), 3);
    assert.throws(() => parseExecFds({ fds: { '0': 'a' } }), /four websockets/);
    assert.throws(() => execReturn({}), /without an exit code/);
  });

  it("reads an alias's fingerprint and what the server says of itself", () => {
    assert.match(parseAliasTarget(fixture('lxd-alias.json')), /^[0-9a-f]{64}$/);
    const facts = parseServerFacts(
      JSON.parse(readFileSync(join(__dirname, '../../fixtures/agent/lxd-1.0-5.0.2.json'), 'utf8')),
    );
    assert.deepEqual([facts.version, facts.clustered, facts.shiftfs, facts.fileHead], ['5.0.2', false, false, true]);
    const older = {
      type: 'sync',
      metadata: { api_extensions: ['instances'], environment: { server_version: '4.0.9' } },
    };
    assert.equal(parseServerFacts(older).fileHead, false);
    assert.throws(() => parseServerFacts({ type: 'sync', metadata: {} }), /without a version/);
  });
});

describe('LXD calls are described as data', () => {
  it('names instances after the workspace, hashing names LXD would refuse', () => {
    assert.equal(instanceName('shop'), 'vendetta-shop');
    assert.match(instanceName('a'.repeat(60)), /^vendetta-[0-9a-f]{16}$/);
    assert.match(instanceName('ends-'), /^vendetta-[0-9a-f]{16}$/);
    assert.equal(labelKey('dev.vendetta.workspace'), 'user.vendetta.workspace');
    assert.equal(labelFromKey('user.vendetta.agent-home'), 'dev.vendetta.agent-home');
    assert.equal(labelFromKey('limits.cpu'), undefined);
  });

  it("makes an unprivileged, labelled instance with its limits, proxies on the node's loopback and the project disk", () => {
    const body = instanceCreateBody({
      workspace: 'shop',
      lxc: {
        image: 'debian/12',
        profiles: ['default', 'big'],
        config: { 'security.nesting': 'true' },
        cpus: 1.5,
        memoryBytes: 512 * 1024 * 1024,
      },
      source: { type: 'image', fingerprint: 'abc' },
      nodeFolder: '/home/u/.vendetta-agent/workspaces/shop/src',
      workspaceFolder: '/workspaces/shop',
      env: { NODE_ENV: 'development' },
      labels: { 'dev.vendetta.agent-home': '/home/u/.vendetta-agent' },
      sshNodePort: 41022,
      ports: [{ guestPort: 8080, nodePort: 18080 }],
      mapping: { kind: 'mapped-owner' },
    });
    assert.deepEqual(body.config, {
      'limits.cpu': '2',
      'limits.memory': String(512 * 1024 * 1024),
      'security.nesting': 'true',
      'environment.NODE_ENV': 'development',
      'user.vendetta.agent-home': '/home/u/.vendetta-agent',
      'user.vendetta.image': 'debian/12',
      'user.vendetta.workspace': 'shop',
    });
    assert.deepEqual(body.devices, {
      'vendetta-project': {
        type: 'disk',
        source: '/home/u/.vendetta-agent/workspaces/shop/src',
        path: '/workspaces/shop',
      },
      'vendetta-ports': {
        type: 'proxy',
        listen: 'tcp:127.0.0.1:41022,18080',
        connect: 'tcp:127.0.0.1:22,8080',
        bind: 'host',
      },
    });
    assert.deepEqual([body.name, body.type, body.profiles], ['vendetta-shop', 'container', ['default', 'big']]);
    const shifted = instanceCreateBody({ ...baseInput(), mapping: { kind: 'shift' } });
    assert.equal((shifted.devices as Record<string, Record<string, string>>)['vendetta-project']!.shift, 'true');
    const raw = instanceCreateBody({ ...baseInput(), mapping: { kind: 'raw.idmap', uid: 1000, gid: 1001 } });
    assert.equal((raw.config as Record<string, string>)['raw.idmap'], 'uid 1000 0\ngid 1001 0');
    assert.throws(
      () => instanceCreateBody({ ...baseInput(), lxc: { image: 'x', config: { 'security.privileged': 'true' } } }),
      /not allowed/,
    );
  });

  it("pushes files with their owner and mode in LXD's headers; execs over websockets", () => {
    assert.deepEqual(fileHeaders({ type: 'file', mode: 0o600, uid: 1000, gid: 1000 }), {
      'X-LXD-type': 'file',
      'X-LXD-mode': '0600',
      'X-LXD-uid': '1000',
      'X-LXD-gid': '1000',
      'X-LXD-write': 'overwrite',
    });
    assert.equal(lxdCalls.filePut('vendetta-a', '/etc/x').query?.path, '/etc/x');
    assert.deepEqual(execBody({ argv: ['id'], uid: 1000, gid: 1000, env: { A: '1' }, cwd: '/w' }), {
      command: ['id'],
      environment: { A: '1' },
      'wait-for-websocket': true,
      interactive: false,
      'record-output': false,
      user: 1000,
      group: 1000,
      cwd: '/w',
    });
    assert.equal(lxdCalls.instanceCreate({}, 'm2').query?.target, 'm2');
    assert.throws(() => operationPath('/1.0/instances/x'), /not an LXD operation path/);
  });

  it('pushes files in waves: each after the folders of the list that hold it and an earlier entry of its path', () => {
    const f = (path: string, type = 'file') => ({ path, type });
    const waves = pushWaves([
      f('/etc/vendetta', 'directory'),
      f('/etc/vendetta/keys', 'directory'),
      f('/etc/vendetta/host_key'),
      f('/etc/vendetta/keys/root'),
      f('/etc/vendetta-other'),
      f('/run/sshd', 'directory'),
      f('/etc/vendetta/host_key'),
      ...sshdUnitFiles(SSH),
    ]).map((w) => w.map((x) => x.path));
    assert.deepEqual(waves, [
      [
        '/etc/vendetta',
        '/etc/vendetta-other',
        '/run/sshd',
        '/etc/systemd/system/vendetta-sshd.service',
        '/etc/systemd/system/multi-user.target.wants',
        '/etc/systemd/system/ssh.service',
        '/etc/systemd/system/ssh.socket',
      ],
      [
        '/etc/vendetta/keys',
        '/etc/vendetta/host_key',
        '/etc/systemd/system/multi-user.target.wants/vendetta-sshd.service',
      ],
      ['/etc/vendetta/keys/root', '/etc/vendetta/host_key'],
    ]);
  });

  it("runs the workspace sshd as an enabled systemd unit and masks the image's own", () => {
    const text = sshdUnitText(SSH);
    assert.match(text, /^ExecStart=\/usr\/sbin\/sshd -D -e -f \/etc\/vendetta\/sshd_config$/m);
    assert.match(text, /^RuntimeDirectory=sshd$/m);
    // It starts with init, not after the sysinit chain, and still stops at shutdown.
    assert.match(
      text,
      /^DefaultDependencies=no\nAfter=systemd-journald\.socket\nConflicts=shutdown\.target\nBefore=shutdown\.target$/m,
    );
    assert.doesNotMatch(text, /network\.target/);
    const files = sshdUnitFiles(SSH);
    assert.deepEqual(
      files.filter((f) => f.type === 'symlink').map((f) => [f.path, 'target' in f ? f.target : '']),
      [
        [
          '/etc/systemd/system/multi-user.target.wants/vendetta-sshd.service',
          '/etc/systemd/system/vendetta-sshd.service',
        ],
        ['/etc/systemd/system/ssh.service', '/dev/null'],
        ['/etc/systemd/system/ssh.socket', '/dev/null'],
      ],
    );
  });
});

describe("an LXD workspace's project folder keeps its owners", () => {
  const idmap = JSON.stringify([
    { Isuid: true, Isgid: false, Hostid: 100000, Nsid: 0, Maprange: 65536 },
    { Isuid: false, Isgid: true, Hostid: 200000, Nsid: 0, Maprange: 65536 },
  ]);

  it('chooses shiftfs, else mapped ids for a root agent, else raw.idmap', () => {
    assert.deepEqual(folderMapping({ shiftfs: true }, { uid: 1000, gid: 1000 }), { kind: 'shift' });
    assert.deepEqual(folderMapping({ shiftfs: false }, { uid: 0, gid: 0 }), { kind: 'mapped-owner' });
    assert.deepEqual(folderMapping({ shiftfs: false }, { uid: 1000, gid: 1001 }), {
      kind: 'raw.idmap',
      uid: 1000,
      gid: 1001,
    });
    assert.match(folderMappingText({ kind: 'raw.idmap', uid: 1000, gid: 1001 }), /node uid 1000 is root inside/);
  });

  it("maps inside ids to the node's through the instance's idmap", () => {
    assert.equal(nodeSideId(idmap, 0, 'uid'), 100000);
    assert.equal(nodeSideId(idmap, 1000, 'gid'), 201000);
    assert.equal(nodeSideId(idmap, 70000, 'uid'), undefined);
    assert.equal(nodeSideId('not json', 0, 'uid'), undefined);
    assert.equal(nodeSideId(undefined, 0, 'uid'), undefined);
  });

  it('finds the socket through LXD_DIR first, and says where it looked', () => {
    assert.deepEqual(
      lxdSocket({ LXD_DIR: '/d' }, (p) => p === '/d/unix.socket' || p === '/var/lib/lxd/unix.socket'),
      { socket: '/d/unix.socket' },
    );
    assert.deepEqual(
      lxdSocket({}, (p) => p === '/var/lib/lxd/unix.socket'),
      { socket: '/var/lib/lxd/unix.socket' },
    );
    const none = lxdSocket({}, () => false);
    assert.ok('error' in none && /looked at \/var\/lib\/incus\/unix.socket/.test(none.error));
  });
});

describe("spec.lxc is checked at the agent's boundary", () => {
  const invalid = (what: string) => new Error(what);
  it('keeps a good one, copied', () => {
    const v = {
      image: 'debian/12',
      profiles: ['default'],
      config: { 'limits.cpu': '2' },
      target: '@gpu',
      cpus: 2,
      memoryBytes: 1024,
    };
    assert.deepEqual(validLxc(v, invalid), v);
  });

  it('refuses keys off the allow-list, odd names, bad numbers', () => {
    const cases: Array<[unknown, RegExp]> = [
      [undefined, /must be an object/],
      [{ image: '-x' }, /image must be/],
      [
        { image: 'a', config: { 'security.privileged': 'true' } },
        /may set only security.nesting, limits.cpu, limits.memory, boot.host_shutdown_timeout/,
      ],
      [{ image: 'a', config: { 'limits.cpu': 'a\nb' } }, /one-line/],
      [{ image: 'a', config: { 'boot.host_shutdown_timeout': '2s' } }, /must be whole seconds, got "2s"/],
      [{ image: 'a', profiles: ['a b'] }, /profile names/],
      [{ image: 'a', target: '../m' }, /cluster member/],
      [{ image: 'a', cpus: -1 }, /cpus must be/],
      [{ image: 'a', memoryBytes: 1.5 }, /memoryBytes must be/],
    ];
    for (const [v, re] of cases) assert.throws(() => validLxc(v, invalid), re, JSON.stringify(v));
  });
});

function baseInput(): Parameters<typeof instanceCreateBody>[0] {
  return {
    workspace: 'w',
    lxc: { image: 'x' },
    source: { type: 'image', alias: 'x' },
    nodeFolder: '/n',
    workspaceFolder: '/workspaces/w',
    env: {},
    labels: {},
    sshNodePort: 1,
    ports: [],
    mapping: { kind: 'mapped-owner' },
  };
}
