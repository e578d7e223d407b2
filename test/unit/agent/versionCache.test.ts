import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Probe, ProbeOutcome, ProbeRunner } from '../../../agent/providers/contract';
import { cachingVersionRunner } from '../../../agent/providers/versionCache';

describe('version probes are remembered while the binary stays the same', () => {
  let dir: string;
  let calls: Probe[];
  let answer: ProbeOutcome;
  const inner: ProbeRunner = {
    run: async (probe) => {
      calls.push(probe);
      return answer;
    },
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vendetta-versioncache-'));
    calls = [];
    answer = { ok: true, status: 0, body: 'QEMU emulator version 7.2.22\n' };
    writeFileSync(join(dir, 'qemu-system-x86_64'), '#!/bin/sh\n', { mode: 0o755 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the binary once, then answers from memory', async () => {
    const r = cachingVersionRunner(inner, `/nonexistent:${dir}`);
    const probe: Probe = { kind: 'exec', file: 'qemu-system-x86_64', args: ['--version'] };
    assert.deepEqual(await r.run(probe, 1000), answer);
    assert.deepEqual(await r.run(probe, 1000), answer);
    assert.equal(calls.length, 1);
  });

  it('runs it again when the package replaced the binary', async () => {
    const r = cachingVersionRunner(inner, dir);
    const probe: Probe = { kind: 'exec', file: join(dir, 'qemu-system-x86_64'), args: ['--version'] };
    await r.run(probe, 1000);
    writeFileSync(join(dir, 'qemu-system-x86_64'), '#!/bin/sh\n# 8.0\n');
    const later = new Date(Date.now() + 5000);
    utimesSync(join(dir, 'qemu-system-x86_64'), later, later);
    await r.run(probe, 1000);
    assert.equal(calls.length, 2);
  });

  it('never remembers a failure, a missing binary, or anything but exec probes', async () => {
    const r = cachingVersionRunner(inner, dir);
    answer = { ok: false, code: '1', message: 'exit 1' };
    const probe: Probe = { kind: 'exec', file: 'qemu-system-x86_64', args: ['--version'] };
    await r.run(probe, 1000);
    await r.run(probe, 1000);
    await r.run({ kind: 'exec', file: 'lxc-start', args: ['--version'] }, 1000);
    await r.run({ kind: 'exec', file: 'lxc-start', args: ['--version'] }, 1000);
    await r.run({ kind: 'access', path: '/dev/kvm', mode: 'rw' }, 1000);
    await r.run({ kind: 'access', path: '/dev/kvm', mode: 'rw' }, 1000);
    assert.equal(calls.length, 6);
  });
});
