import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../../../agent/errors';
import { DockerProvider } from '../../../agent/providers/docker/provider';
import { qemuBinary } from '../../../agent/providers/qemu/detect';
import { QemuProvider } from '../../../agent/providers/qemu/provider';
import { findOnPath } from '../../../agent/providers/runner';
import { LxcProvider } from '../../../agent/providers/lxc/provider';
import { HttpStatusError, jsonErrorText, UnixHttpClient, type UnixHttpApi } from '../../../agent/providers/unixHttp';
import { nodeProviders } from '../../../agent/workspaces/providers';

describe('the agent finds the provider of a workspace in a registry', () => {
  it('makes the QEMU provider when the emulator is on PATH, with its VMs under the agent home', () => {
    const bin = mkdtempSync(join(tmpdir(), 'vendetta-qemu-bin-'));
    try {
      const emulator = join(bin, qemuBinary(arch()));
      writeFileSync(emulator, '#!/bin/sh\n', { mode: 0o755 });
      const env: NodeJS.ProcessEnv = { PATH: bin, VENDETTA_AGENT_HOME: '/tmp/agent-home' };
      const lookup = nodeProviders(env);
      const made = lookup('qemu');
      assert.ok(made instanceof QemuProvider);
      assert.deepEqual([made.opts.binary, made.opts.root], [emulator, '/tmp/agent-home/qemu']);
      assert.equal(lookup('qemu'), made, 'kept while nothing changed');
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
    assert.equal(findOnPath('vendetta-no-such-emulator', '/nonexistent'), undefined);
  });

  it("makes the LXC provider for the LXD socket the agent's LXD_DIR names, and says where it looked when there is none", () => {
    const dir = mkdtempSync(join(tmpdir(), 'vendetta-lxd-'));
    try {
      writeFileSync(join(dir, 'unix.socket'), '');
      const lookup = nodeProviders({ LXD_DIR: dir });
      const lxc = lookup('lxc');
      assert.ok(lxc instanceof LxcProvider);
      assert.equal(lxc.client.socketPath, join(dir, 'unix.socket'));
      assert.equal(lookup('lxc'), lxc, 'kept while the socket stays');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const none = join(tmpdir(), 'vendetta-no-lxd');
    assert.throws(
      () => nodeProviders({ LXD_DIR: none, INCUS_DIR: none })('lxc'),
      (err: unknown) =>
        err instanceof AgentError &&
        err.code === 'PROVIDER_UNAVAILABLE' &&
        err.message.startsWith(
          `LXD is not usable: no LXD/Incus API socket on this node (looked at ${none}/unix.socket`,
        ) &&
        /apt install lxd/.test(err.hint ?? ''),
    );
  });

  it('makes the Docker provider for the socket DOCKER_HOST names, keeps it, and follows a moved socket', () => {
    const env: NodeJS.ProcessEnv = { DOCKER_HOST: 'unix:///tmp/a.sock' };
    const lookup = nodeProviders(env);
    const first = lookup('docker');
    assert.ok(first instanceof DockerProvider);
    assert.equal(first.engine.socketPath, '/tmp/a.sock');
    assert.equal(lookup('docker'), first);
    env.DOCKER_HOST = 'unix:///tmp/b.sock';
    const moved = lookup('docker');
    assert.notEqual(moved, first);
    assert.equal((moved as DockerProvider).engine.socketPath, '/tmp/b.sock');
  });

  it('says why Docker is not usable when DOCKER_HOST is not a Unix socket', () => {
    assert.throws(
      () => nodeProviders({ DOCKER_HOST: 'tcp://10.0.0.1:2375' })('docker'),
      (err: unknown) =>
        err instanceof AgentError &&
        err.code === 'PROVIDER_UNAVAILABLE' &&
        /Docker is not usable: DOCKER_HOST=tcp/.test(err.message),
    );
  });
});

describe('the HTTP-over-Unix-socket client speaks for whichever daemon it was made for', () => {
  let dir: string;
  let server: Server | undefined;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vendetta-unixhttp-'))));
  afterEach(async () => {
    if (server) {
      server.closeAllConnections();
      await new Promise((r) => server!.close(r));
    }
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const lxd: UnixHttpApi = {
    name: 'LXD',
    host: 'lxd',
    provider: 'lxc',
    socket: { what: 'LXD daemon', startHint: 'Start LXD.', group: 'lxd' },
    errorText: (body) => jsonErrorText(body, 'error'),
  };

  it("sends the daemon's Host header and reports its error body and name", async () => {
    const socket = join(dir, 'lxd.sock');
    let host: string | undefined;
    server = createServer((req, res) => {
      host = req.headers.host;
      res
        .writeHead(404, { 'Content-Type': 'application/json' })
        .end('{"type":"error","error":"Instance not found","error_code":404}');
    });
    await new Promise<void>((r) => server!.listen(socket, r));
    const client = new UnixHttpClient(lxd, socket);
    await assert.rejects(
      client.send({ method: 'GET', path: '/1.0/instances/x', accept: [200], what: 'inspect the instance' }),
      (err: unknown) =>
        err instanceof HttpStatusError &&
        err.status === 404 &&
        err.message === 'LXD could not inspect the instance: Instance not found',
    );
    assert.equal(host, 'lxd');
  });

  it('cancels a call in flight when its signal aborts, and says it was cancelled', async () => {
    const socket = join(dir, 'slow.sock');
    server = createServer(() => undefined); // never answers
    await new Promise<void>((r) => server!.listen(socket, r));
    const client = new UnixHttpClient(lxd, socket);
    const abort = new AbortController();
    const started = Date.now();
    const call = client.send(
      { method: 'GET', path: '/1.0/operations/x/wait', accept: [200], what: 'wait for the operation' },
      { signal: abort.signal, timeoutMs: 30_000 },
    );
    setTimeout(() => abort.abort(), 50);
    await assert.rejects(
      call,
      (err: unknown) =>
        err instanceof AgentError &&
        err.code === 'PROVIDER_ERROR' &&
        err.message === 'LXD was asked to wait for the operation, and that was cancelled',
    );
    assert.ok(Date.now() - started < 5_000);
  });

  it('names the daemon and its provider when nothing answers on the socket', async () => {
    const client = new UnixHttpClient(lxd, join(dir, 'absent.sock'));
    await assert.rejects(
      client.send({ method: 'GET', path: '/1.0', accept: [200], what: 'ask for its version' }),
      (err: unknown) =>
        err instanceof AgentError &&
        err.code === 'PROVIDER_UNAVAILABLE' &&
        err.provider === 'lxc' &&
        /^LXD could not ask for its version: no LXD daemon answers/.test(err.message) &&
        err.hint === 'Start LXD.',
    );
  });
});
