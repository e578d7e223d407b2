import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_LABEL, type WorkspaceSpec } from '../../../agent/protocol';
import {
  containerCreateBody,
  dockerCalls,
  encodeRef,
  execCreateBody,
  SSH_SERVER_LABEL,
} from '../../../agent/providers/docker/api';
import { engineMessage, pathWithQuery } from '../../../agent/providers/docker/engine';
import { sshdMainProcess } from '../../../agent/providers/docker/provider';
import {
  addressFromNetworkSettings,
  parseBuildLine,
  parseContainerInspect,
  parseContainerList,
  parseExecInspect,
  parseIdReply,
  parseImageInspect,
  parsePathStat,
  publishedPortsFromInspectPorts,
  sshPortFromInspectPorts,
} from '../../../agent/providers/docker/parse';
import { Demuxer, demuxAll, TailBuffer } from '../../../agent/providers/docker/stream';

const fixtures = join(__dirname, '../../fixtures/agent');
const json = (name: string): unknown => JSON.parse(readFileSync(join(fixtures, name), 'utf8'));
const raw = (name: string): Buffer => readFileSync(join(fixtures, name));

describe('the docker provider reads what a real engine answers (recorded from Docker 20.10, API 1.41)', () => {
  it('reads a running workspace container: state, published loopback SSH port, labels, bind mount', () => {
    const ws = parseContainerInspect(json('docker-container-inspect-running.json'));
    assert.equal(ws.state, 'running');
    assert.equal(ws.name, 'api');
    assert.equal(ws.sshPort, 32775);
    assert.deepEqual(ws.publishedPorts, { '22': 32775 });
    assert.equal(ws.image, 'vendetta/debian:bookworm');
    assert.equal(ws.nodeFolder, '/tmp/vt-scratch/src');
    assert.equal(ws.address, '172.17.0.2');
    assert.equal(ws.labels[WORKSPACE_LABEL], 'api');
    assert.match(ws.providerId, /^[0-9a-f]{64}$/);
    assert.match(ws.startedAt!, /^2026-/);
    assert.match(ws.createdAt!, /^2026-/);
  });

  it('tells created, stopped and crash-looping containers apart, and reports no port unless running', () => {
    const created = parseContainerInspect(json('docker-container-inspect-created.json'));
    assert.deepEqual([created.state, created.sshPort, created.startedAt], ['created', undefined, undefined]);
    const exited = parseContainerInspect(json('docker-container-inspect-exited.json'));
    assert.deepEqual(
      [exited.state, exited.sshPort, exited.startedAt, exited.publishedPorts, exited.address],
      ['stopped', undefined, undefined, undefined, undefined],
    );
    const looping = parseContainerInspect(json('docker-container-inspect-restarting.json'));
    assert.equal(looping.state, 'error');
    assert.match(looping.error!, /keeps exiting/);
  });

  it('finds the address on a user network when the default bridge has none', () => {
    assert.equal(
      addressFromNetworkSettings({
        IPAddress: '',
        Networks: { none: { IPAddress: '' }, dev: { IPAddress: '10.5.0.3' } },
      }),
      '10.5.0.3',
    );
    assert.equal(addressFromNetworkSettings({ IPAddress: '', Networks: { host: { IPAddress: '' } } }), undefined);
  });

  it('lists labelled containers with their state and port', () => {
    const list = parseContainerList(json('docker-container-list.json'));
    assert.deepEqual(list.map((w) => [w.name, w.state]).sort(), [
      ['api', 'stopped'],
      ['shop', 'error'],
    ]);
    for (const w of list) assert.equal(w.sshPort, undefined);
    assert.equal(list.find((w) => w.name === 'api')?.nodeFolder, '/tmp/vt-scratch/src');
    const running = parseContainerList([
      {
        Id: 'abc',
        State: 'running',
        Image: 'i',
        Labels: { [WORKSPACE_LABEL]: 'w' },
        Created: 1,
        Ports: [{ IP: '127.0.0.1', PrivatePort: 22, PublicPort: 40001, Type: 'tcp' }],
      },
    ]);
    assert.deepEqual(
      [running[0]!.state, running[0]!.sshPort, running[0]!.createdAt],
      ['running', 40001, '1970-01-01T00:00:01.000Z'],
    );
  });

  it('reads ids, exit codes, images and path stats', () => {
    assert.match(parseIdReply(json('docker-container-create.json'), 'create'), /^[0-9a-f]{64}$/);
    assert.deepEqual(parseExecInspect(json('docker-exec-inspect.json')), { running: false, exitCode: 3 });
    assert.match(parseImageInspect(json('docker-image-inspect.json')).id, /^sha256:/);
    const stat = parsePathStat(
      'eyJuYW1lIjoic3NoZCIsInNpemUiOjEyNjU0MzIsIm1vZGUiOjQ5MywibXRpbWUiOiIyMDI2LTA1LTA1VDEwOjI2OjU2WiIsImxpbmtUYXJnZXQiOiIifQ==',
    );
    assert.deepEqual(stat, { name: 'sshd', size: 1265432, mode: 0o755, linkTarget: '' });
    assert.equal(parsePathStat(undefined), undefined);
    assert.equal(parsePathStat('%%%'), undefined);
  });

  it('splits multiplexed output into stdout and stderr, whatever the chunking', () => {
    const recorded = raw('docker-exec-output-multiplexed.bin');
    assert.deepEqual(demuxAll(recorded), { stdout: 'out\n', stderr: 'err\n' });
    for (let size = 1; size <= recorded.length; size++) {
      const got = { stdout: '', stderr: '' };
      const d = new Demuxer((k, c) => (got[k] += c.toString()));
      for (let i = 0; i < recorded.length; i += size) d.push(recorded.subarray(i, i + size));
      assert.deepEqual(got, { stdout: 'out\n', stderr: 'err\n' }, `chunks of ${size}`);
      assert.equal(d.leftover, 0);
    }
    assert.match(demuxAll(raw('docker-logs-multiplexed.bin')).stderr, /sshd: no hostkeys available -- exiting/);
    const cut = new Demuxer(() => undefined);
    cut.push(recorded.subarray(0, 10));
    assert.equal(cut.leftover, 10);
  });

  it('reads build progress and the error of a failed build', () => {
    const ok = readFileSync(join(fixtures, 'docker-build-output.jsonl'), 'utf8')
      .split('\n')
      .map(parseBuildLine)
      .filter((m) => m !== undefined);
    assert.ok(ok.some((m) => m.kind === 'stream' && m.text.startsWith('Successfully tagged vt-built:1')));
    assert.ok(ok.some((m) => m.kind === 'aux' && m.id?.startsWith('sha256:')));
    assert.ok(!ok.some((m) => m.kind === 'error'));
    const failed = readFileSync(join(fixtures, 'docker-build-output-failed.jsonl'), 'utf8')
      .split('\n')
      .map(parseBuildLine);
    assert.deepEqual(
      failed.find((m) => m?.kind === 'error'),
      { kind: 'error', message: "The command '/bin/sh -c exit 7' returned a non-zero code: 7" },
    );
    assert.deepEqual(parseBuildLine('plain text'), { kind: 'stream', text: 'plain text' });
    assert.equal(parseBuildLine('  '), undefined);
  });

  it('refuses replies that are not what they claim, without crashing', () => {
    for (const bad of [null, 42, 'x', [], { Id: 'abc' }, { State: {} }])
      assert.throws(() => parseContainerInspect(bad), /unexpected reply/);
    assert.throws(() => parseContainerList({}), /not an array/);
    assert.throws(() => parseContainerList([{ State: 'running' }]), /without Id/);
    assert.throws(() => parseIdReply({ Id: '../../etc' }, 'create'), /without a valid Id/);
    assert.throws(() => parseExecInspect({ ExitCode: 0 }), /without Running/);
    assert.throws(() => parseImageInspect({}), /without Id/);
    assert.equal(
      sshPortFromInspectPorts({ '22/tcp': [{ HostIp: '0.0.0.0', HostPort: '1234' }] }),
      undefined,
      'only a loopback binding counts',
    );
    assert.equal(sshPortFromInspectPorts({ '22/tcp': [{ HostIp: '127.0.0.1', HostPort: '99999' }] }), undefined);
    assert.equal(sshPortFromInspectPorts(null), undefined);
    assert.deepEqual(
      publishedPortsFromInspectPorts({
        '22/tcp': [{ HostIp: '127.0.0.1', HostPort: '40022' }],
        '8080/tcp': [
          { HostIp: '0.0.0.0', HostPort: '1234' },
          { HostIp: '127.0.0.1', HostPort: '48080' },
        ],
        '7070/tcp': null,
        '53/udp': [{ HostIp: '127.0.0.1', HostPort: '40053' }],
        'x/tcp': [{ HostIp: '127.0.0.1', HostPort: '1' }],
      }),
      { '22': 40022, '8080': 48080 },
      'loopback TCP bindings only',
    );
    assert.deepEqual(publishedPortsFromInspectPorts('nope'), {});
    const odd = parseContainerInspect({ Id: 'f'.repeat(64), State: { Status: 'weird' }, Config: {} });
    assert.equal(odd.state, 'error');
    assert.equal(engineMessage('{"message":"No such container: x"}'), 'No such container: x');
    assert.equal(engineMessage('plain'), 'plain');
  });
});

describe('the docker provider describes its calls as data', () => {
  const spec: WorkspaceSpec = {
    name: 'shop',
    provider: 'docker',
    docker: { image: 'vendetta/debian:bookworm', cpus: 1.5, memoryBytes: 2 * 1024 ** 3, pids: 300 },
    env: { NODE_ENV: 'development', A_B: 'x=y' },
    user: 'root',
    workspaceFolder: '/workspaces/shop',
    authorizedKeys: ['ssh-ed25519 AAAA'],
  };

  it("creates the container with limits, the SSH port at the agent's node port on loopback only, bind mount, labels and our sshd", () => {
    const body = containerCreateBody({
      spec,
      nodeFolder: '/home/u/.vendetta-agent/workspaces/shop/src',
      labels: { 'dev.vendetta.agent-home': '/h', [WORKSPACE_LABEL]: 'spoof' },
      command: ['/usr/sbin/sshd', '-D', '-e'],
      sshNodePort: 41022,
    });
    assert.deepEqual(body, {
      Image: 'vendetta/debian:bookworm',
      Hostname: 'shop',
      Entrypoint: ['/usr/sbin/sshd'],
      Cmd: ['-D', '-e'],
      Env: ['NODE_ENV=development', 'A_B=x=y'],
      WorkingDir: '/workspaces/shop',
      Labels: { 'dev.vendetta.agent-home': '/h', [WORKSPACE_LABEL]: 'shop' },
      ExposedPorts: { '22/tcp': {} },
      HostConfig: {
        Mounts: [{ Type: 'bind', Source: '/home/u/.vendetta-agent/workspaces/shop/src', Target: '/workspaces/shop' }],
        PortBindings: { '22/tcp': [{ HostIp: '127.0.0.1', HostPort: '41022' }] },
        RestartPolicy: { Name: 'unless-stopped' },
        NanoCpus: 1_500_000_000,
        Memory: 2 * 1024 ** 3,
        PidsLimit: 300,
      },
    });
    assert.equal('User' in body, false, 'sshd runs as root and drops to the login user per session');
    const bare = containerCreateBody({
      spec: { ...spec, docker: { image: 'x' } },
      nodeFolder: '/n',
      labels: {},
      command: ['/s'],
      sshNodePort: 41022,
    });
    assert.deepEqual(Object.keys(bare.HostConfig as object), ['Mounts', 'PortBindings', 'RestartPolicy']);
  });

  it('mounts the SSH server the agent brought read-only and labels the container with it', () => {
    const body = containerCreateBody({
      spec: { ...spec, docker: { image: 'x' } },
      nodeFolder: '/n',
      labels: {},
      command: ['/l'],
      sshNodePort: 41022,
      brought: { nodeDir: '/home/a/.vendetta-agent/sshd/abc', mountPath: '/.vendetta/sshd' },
    });
    assert.deepEqual((body.HostConfig as { Mounts: unknown[] }).Mounts[1], {
      Type: 'bind',
      Source: '/home/a/.vendetta-agent/sshd/abc',
      Target: '/.vendetta/sshd',
      ReadOnly: true,
    });
    assert.equal((body.Labels as Record<string, string>)[SSH_SERVER_LABEL], 'agent');
    const inspect = json('docker-container-inspect-running.json') as { Config: { Labels: Record<string, string> } };
    assert.equal(parseContainerInspect(inspect).sshServer, 'image');
    inspect.Config.Labels[SSH_SERVER_LABEL] = 'agent';
    assert.equal(parseContainerInspect(inspect).sshServer, 'agent');
  });

  it('runs the SSH server the agent asks for as the main process, in the foreground on the given config', () => {
    assert.deepEqual(sshdMainProcess({ binary: '/usr/sbin/sshd', configPath: '/etc/vendetta/sshd_config' }), [
      '/usr/sbin/sshd',
      '-D',
      '-e',
      '-f',
      '/etc/vendetta/sshd_config',
    ]);
  });

  it('escapes what goes into paths and queries', () => {
    assert.equal(encodeRef('vendetta/debian:bookworm'), 'vendetta/debian:bookworm');
    assert.equal(encodeRef('localhost:5000/a/b@sha256:00'), 'localhost:5000/a/b@sha256:00');
    assert.equal(encodeRef('a?b#c'), 'a%3Fb%23c');
    assert.equal(
      pathWithQuery(dockerCalls.containerList()),
      '/containers/json?all=1&filters=%7B%22label%22%3A%5B%22dev.vendetta.workspace%22%5D%7D',
    );
    assert.equal(
      pathWithQuery(dockerCalls.archiveStat('abc', '/usr/sbin/sshd')),
      '/containers/abc/archive?path=%2Fusr%2Fsbin%2Fsshd',
    );
    assert.equal(pathWithQuery(dockerCalls.containerInspect('../x')), '/containers/..%2Fx/json');
    assert.equal(pathWithQuery(dockerCalls.build('t:1', {})), '/build?t=t%3A1&rm=1&forcerm=1');
    assert.equal(
      pathWithQuery(dockerCalls.build('t:1', { dockerfile: 'd/Dockerfile', args: { V: 'a b' }, target: 'dev' })),
      '/build?t=t%3A1&dockerfile=d%2FDockerfile&rm=1&forcerm=1&buildargs=%7B%22V%22%3A%22a+b%22%7D&target=dev',
    );
  });

  it('runs commands as root by default, argv only', () => {
    assert.deepEqual(execCreateBody({ argv: ['id', '-u', 'dev'] }), {
      Cmd: ['id', '-u', 'dev'],
      AttachStdout: true,
      AttachStderr: true,
      AttachStdin: false,
      Tty: false,
      User: '0',
    });
    assert.equal(execCreateBody({ argv: ['id'], user: 'root' }).User, '0');
    assert.deepEqual(
      execCreateBody({ argv: ['sh'], user: 'dev', env: { A: '1' }, workingDir: '/w', tty: true, stdin: true }),
      {
        Cmd: ['sh'],
        AttachStdout: true,
        AttachStderr: true,
        AttachStdin: true,
        Tty: true,
        User: 'dev',
        Env: ['A=1'],
        WorkingDir: '/w',
      },
    );
  });

  it('keeps only the tail of long output', () => {
    const t = new TailBuffer(5);
    for (const s of ['abc', 'def', 'ghi']) t.push(Buffer.from(s));
    assert.equal(t.toString(), 'efghi');
  });
});
