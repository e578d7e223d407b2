import assert from 'node:assert/strict';
import type { Probe, ProbeOutcome, ProbeRunner } from '../../../agent/providers/contract';
import { detectProviders, ProviderCache } from '../../../agent/providers/detect';
import { probePath } from '../../../agent/providers/runner';
import type { ProvidersInfo } from '../../../agent/protocol';

/** Answers probes from a table; records what was asked. */
function fakeRunner(answer: (p: Probe) => ProbeOutcome | Promise<ProbeOutcome>): ProbeRunner & { asked: Probe[] } {
  const asked: Probe[] = [];
  return {
    asked,
    run: async (p) => {
      asked.push(p);
      return answer(p);
    },
  };
}

describe('provider detection runs every probe in parallel, bounded in time', () => {
  it('asks docker, lxd/incus, lxc-start and qemu, and assembles the answer', async () => {
    const runner = fakeRunner((p) => {
      if (p.kind === 'http-unix' && p.path === '/version')
        return { ok: true, status: 200, body: '{"Version":"27.1.0","ApiVersion":"1.46"}' };
      if (p.kind === 'exec' && p.file === 'qemu-system-aarch64')
        return { ok: true, status: 0, body: 'QEMU emulator version 8.2.2\n' };
      return { ok: false, code: 'ENOENT', message: 'nope' };
    });
    const info = await detectProviders({
      env: { DOCKER_HOST: 'unix:///d.sock' },
      runner,
      timeoutMs: 1000,
      nodeArch: 'arm64',
    });
    assert.deepEqual(info.docker, { available: true, socket: '/d.sock', version: '27.1.0', apiVersion: '1.46' });
    assert.equal(info.lxc.available, false);
    assert.deepEqual(
      { ...info.qemu, kvmError: undefined },
      { available: true, version: '8.2.2', binary: 'qemu-system-aarch64', kvm: false, kvmError: undefined },
    );
    const kinds = runner.asked.map((p) =>
      p.kind === 'exec' ? p.file : p.kind === 'access' ? p.path : p.socketPath + p.path,
    );
    assert.ok(kinds.includes('/d.sock/version'));
    assert.ok(kinds.includes('lxc-start'));
    assert.ok(kinds.includes('/dev/kvm'));
    assert.ok(kinds.includes('/var/lib/incus/unix.socket/1.0'));
  });

  it('reports a provider whose probe hangs as unavailable instead of waiting', async () => {
    const runner = fakeRunner((p) =>
      p.kind === 'http-unix' ? new Promise<ProbeOutcome>(() => undefined) : { ok: false, code: 'ENOENT', message: 'x' },
    );
    const t0 = Date.now();
    const info = await detectProviders({ env: {}, runner, timeoutMs: 50, nodeArch: 'x64' });
    assert.ok(Date.now() - t0 < 2000);
    assert.deepEqual(info.docker, { available: false, error: 'docker detection did not finish within 0.55 s' });
    assert.equal(info.qemu.available, false);
  });

  it('reports a probe that throws as a failed detection', async () => {
    const runner = fakeRunner(() => {
      throw new Error('runner broke');
    });
    const info = await detectProviders({ env: {}, runner, timeoutMs: 50 });
    assert.equal(info.docker.error, 'docker detection failed: runner broke');
  });

  it('caches the answer briefly and shares one run between concurrent callers', async () => {
    let now = 1000;
    let runs = 0;
    const value = { docker: { available: false } } as ProvidersInfo;
    const cache = new ProviderCache(
      async () => {
        runs++;
        await new Promise((r) => setTimeout(r, 10));
        return value;
      },
      5000,
      () => now,
    );
    const [a, b] = await Promise.all([cache.get(), cache.get()]);
    assert.equal(a, value);
    assert.equal(b, value);
    assert.equal(runs, 1);
    now += 4999;
    await cache.get();
    assert.equal(runs, 1, 'still fresh');
    now += 2;
    await cache.get();
    assert.equal(runs, 2, 'stale: detected again');
  });

  it('does not cache a failed detection', async () => {
    let runs = 0;
    const cache = new ProviderCache(async () => {
      runs++;
      if (runs === 1) throw new Error('first fails');
      return {} as ProvidersInfo;
    });
    await assert.rejects(cache.get(), /first fails/);
    await cache.get();
    assert.equal(runs, 2);
  });

  it('adds the usual binary folders to a thin PATH, keeping its order', () => {
    assert.equal(
      probePath('/opt/bin:/usr/bin'),
      '/opt/bin:/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/sbin:/bin:/snap/bin',
    );
    assert.ok(probePath(undefined).startsWith('/usr/local/sbin:'));
  });
});
