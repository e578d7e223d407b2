import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  accelMessage,
  chooseAccel,
  KVM_SLOWER_LIMIT,
  probeArgv,
  probeBootSector,
  PROBE_EXIT,
  probeKvm,
  slowerThanEmulation,
} from '../../../agent/providers/qemu/accel';
import { readVerdict, verdictDir, writeVerdict } from '../../../agent/providers/qemu/kvmVerdictCache';

describe('QEMU: which accelerator `auto` takes', () => {
  it('probes with a boot sector that writes to isa-debug-exit, with room for the memory it writes', () => {
    const sector = probeBootSector();
    assert.equal(sector.length, 512);
    assert.deepEqual([sector[0], sector[510], sector[511]], [0xfa, 0x55, 0xaa], 'cli first, the boot signature last');
    assert.equal(PROBE_EXIT, 85);
    const argv = probeArgv('kvm', '/p').join(' ');
    assert.match(argv, /-accel kvm .*-m 96M .*isa-debug-exit,iobase=0xf4,iosize=0x01 .*file=\/p,format=raw/);
  });

  it('takes KVM only when it is at most three times slower than emulation on the probe', () => {
    assert.equal(KVM_SLOWER_LIMIT, 3);
    assert.equal(slowerThanEmulation(120, 150), undefined, 'healthy KVM: about as fast');
    assert.equal(slowerThanEmulation(450, 150), undefined, 'at the limit');
    // What a nested host without hardware paging did here: Linux then did not decompress in minutes.
    assert.match(
      slowerThanEmulation(5872, 131) ?? '',
      /^KVM ran a test guest in 5872 ms where software emulation took 131 ms \(nested virtualization.*faster one on this node$/,
    );
    assert.match(
      slowerThanEmulation(2000, 131, false) ?? '',
      /^KVM did not finish a test guest within 2000 ms where software emulation took 131 ms /,
      'a KVM run cut off at its bound is slow whatever the bound',
    );
  });

  it('says which one up uses, and why', async () => {
    assert.deepEqual(await chooseAccel('tcg', 'qemu-system-x86_64'), { accel: 'tcg', why: 'the config asks for tcg' });
    assert.match(
      accelMessage({ accel: 'tcg', why: 'no kvm' }),
      /TCG, software emulation, about 10× slower than KVM: no kvm/,
    );
    assert.equal(accelMessage({ accel: 'kvm' }), 'QEMU uses KVM (hardware virtualization)');
    assert.equal(
      accelMessage({ accel: 'kvm', why: 'KVM ran a test guest slowly' }),
      'QEMU uses KVM (hardware virtualization), as the config asks, though KVM ran a test guest slowly',
    );
  });
});

describe('QEMU: the KVM verdict kept for the boot', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vendetta-kvm-verdict-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a verdict per emulator in /run for root only, and reads back only what it wrote', () => {
    assert.equal(verdictDir(), process.getuid?.() === 0 ? '/run/vendetta-agent' : undefined);
    assert.equal(readVerdict(dir, 'qemu-system-x86_64'), undefined, 'none yet');
    writeVerdict(dir, 'qemu-system-x86_64', { slow: 'KVM ran a test guest in 5872 ms' });
    assert.deepEqual(readVerdict(dir, 'qemu-system-x86_64'), { slow: 'KVM ran a test guest in 5872 ms' });
    assert.equal(readVerdict(dir, 'qemu-system-aarch64'), undefined, 'per emulator');
    assert.equal(statSync(join(dir, 'kvm-qemu-system-x86_64.json')).mode & 0o777, 0o644);
    writeFileSync(join(dir, 'kvm-q.json'), '{"slow": 3}');
    assert.equal(readVerdict(dir, 'q'), undefined, 'a verdict of the wrong shape is probed again');
    writeFileSync(join(dir, 'kvm-q.json'), '{"slo');
    assert.equal(readVerdict(dir, 'q'), undefined, 'a torn one too');
    writeVerdict(undefined, 'q', {});
    assert.equal(readVerdict(undefined, 'q'), undefined, 'no folder: nothing kept');
    writeVerdict(join(dir, 'kvm-q.json', 'below-a-file'), 'q', {});
  });

  it('answers from the kept verdict without running a guest', async () => {
    const device = join(dir, 'kvm');
    writeFileSync(device, '');
    writeVerdict(dir, 'no-such-qemu', { broken: 'kept from an earlier agent' });
    assert.deepEqual(await probeKvm('no-such-qemu', device, dir), { broken: 'kept from an earlier agent' });
  });
});
