import assert from 'node:assert/strict';
import {
  accelMessage,
  chooseAccel,
  KVM_SLOWER_LIMIT,
  probeArgv,
  probeBootSector,
  PROBE_EXIT,
  slowerThanEmulation,
} from '../../../agent/providers/qemu/accel';

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
