/**
 * The accelerator probe against the real QEMU and assembler: the sector the agent embeds is what
 * accelProbe.s assembles to, and it runs to its end under emulation, timed; a probe that cannot
 * run says why. Which accelerator the VMs of the lifecycle row get follows from it (qemuVm).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeAccel, probeBootSector } from '../../agent/providers/qemu/accel';
import { REPO } from '../infra/extensionHostTests';
import { requireCommands } from '../infra/sys';

describe('QEMU: the accelerator probe, assembled and run', function () {
  this.timeout(60_000);
  let dir: string;
  before(function () {
    requireCommands(this, 'the accelerator probe', ['qemu-system-x86_64', 'as', 'ld']);
    dir = mkdtempSync(join(tmpdir(), 'vendetta-accel-test-'));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('embeds exactly what accelProbe.s assembles to', () => {
    const obj = join(dir, 'p.o');
    const bin = join(dir, 'p.bin');
    execFileSync('as', ['--64', '-o', obj, join(REPO, 'agent/providers/qemu/accelProbe.s')]);
    execFileSync('ld', ['-m', 'elf_x86_64', '-Ttext=0x7c00', '--oformat', 'binary', '-o', bin, obj]);
    assert.deepEqual(readFileSync(bin), probeBootSector());
  });

  it('runs to its end under emulation through long mode and 62 MiB of writes, and says how long it took', async () => {
    const run = await probeAccel('qemu-system-x86_64', 'tcg');
    assert.ok(run.ok, JSON.stringify(run));
    assert.ok(run.ms > 0 && run.ms < 20_000, `${run.ms} ms`);
  });

  it('says why when the emulator cannot run it', async () => {
    const run = await probeAccel(join(dir, 'no-such-qemu'), 'tcg');
    assert.deepEqual(run.ok, false);
    assert.match(!run.ok ? run.why : '', /ENOENT/);
  });
});
