#!/usr/bin/env node
// Builds a QEMU guest from Debian packages alone (no image download): a bookworm tree with
// systemd, OpenSSH and cloud-init (NoCloud), its kernel and a small virtio initramfs copied out,
// and the tree made into an ext4 qcow2 disk without loop mounts (mkfs.ext4 -d). The guest boots
// with direct kernel boot: root=/dev/vda, console on ttyS0. Built once per machine and recipe
// (the folder's name carries a hash of everything below that shapes the guest), a lock keeping
// concurrent builds from racing. Needs root (debootstrap, chroot).
//
//   node scripts/image/build-qemu-guest.mjs [--rebuild]
//
// Prints one JSON line: {dir, image, kernel, initrd, append, built, buildMs}.
// Env: VENDETTA_IMAGE_CACHE (default ~/.cache/vendetta/images), VENDETTA_DEBIAN_MIRROR.
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { aptProxyEnv, debianMirror } from './aptSources.mjs';
import { run, withLock } from './buildLock.mjs';

const SUITE = 'bookworm';
/** python3-cffi-backend: debootstrap does not resolve the virtual package cloud-init's cryptography needs. */
const PACKAGES = [
  'systemd-sysv',
  'dbus',
  'openssh-server',
  'cloud-init',
  'python3-cffi-backend',
  'iproute2',
  'ifupdown',
  'isc-dhcp-client',
  'busybox',
  'procps',
  // The services of the shared lifecycle project (examples/hello) are plain Node.js.
  'nodejs',
  'linux-image-amd64',
  'initramfs-tools',
  'zstd',
];
/**
 * NoCloud only (no network metadata probes); ed25519 host keys only (RSA costs ~14 s under TCG,
 * and the seed brings the workspace's own key); C.UTF-8 because there is no locales package; the
 * root file system is the whole disk, so there is no partition to grow (resizefs still grows /).
 */
const CLOUD_CFG = `datasource_list: [ NoCloud, None ]
ssh_genkeytypes: [ ed25519 ]
locale: C.UTF-8
growpart: { mode: "off" }
`;
/** Units that only slow a boot or wait for what a user-mode network never gives. */
const MASKED = [
  'serial-getty@ttyS0.service',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'systemd-networkd-wait-online.service',
  'e2scrub_reap.service',
  'man-db.timer',
];
/** The initramfs needs only the virtio disk and ext4 (about 7 MB instead of 30). */
const INITRAMFS_MODULES = ['virtio_pci', 'virtio_blk', 'virtio_scsi', 'sd_mod', 'ext4'];
const DISK_SIZE = '4G';
/** What the boot command line must say for this guest (net.ifnames=0: its one NIC is eth0). */
export const APPEND = 'root=/dev/vda rw console=ttyS0 net.ifnames=0';

const RECIPE = { v: 1, SUITE, PACKAGES, CLOUD_CFG, MASKED, INITRAMFS_MODULES, DISK_SIZE, APPEND };
const RECIPE_HASH = createHash('sha256').update(JSON.stringify(RECIPE)).digest('hex').slice(0, 12);

function fail(message, hint) {
  process.stderr.write(`error: ${message}\n${hint ? `hint: ${hint}\n` : ''}`);
  process.exit(1);
}

function cacheDir(env = process.env) {
  return env.VENDETTA_IMAGE_CACHE || join(homedir(), '.cache/vendetta/images');
}

function configureTree(root) {
  writeFileSync(join(root, 'etc/cloud/cloud.cfg.d/90-vendetta.cfg'), CLOUD_CFG);
  // Each VM gets its own identity at first boot: no machine id, no host keys, no hostname.
  writeFileSync(join(root, 'etc/machine-id'), '');
  for (const f of readdirSync(join(root, 'etc/ssh'))) if (f.startsWith('ssh_host_')) rmSync(join(root, 'etc/ssh', f));
  writeFileSync(join(root, 'etc/hostname'), 'localhost\n');
  rmSync(join(root, 'etc/resolv.conf'), { force: true });
  writeFileSync(join(root, 'etc/resolv.conf'), '');
  writeFileSync(join(root, 'etc/fstab'), '/dev/vda / ext4 errors=remount-ro 0 1\n');
  for (const unit of MASKED) {
    const link = join(root, 'etc/systemd/system', unit);
    rmSync(link, { force: true });
    symlinkSync('/dev/null', link);
  }
  writeFileSync(join(root, 'etc/initramfs-tools/modules'), INITRAMFS_MODULES.join('\n') + '\n');
  writeFileSync(join(root, 'etc/initramfs-tools/conf.d/vendetta-modules'), 'MODULES=list\n');
  const kernels = readdirSync(join(root, 'boot')).filter((f) => f.startsWith('vmlinuz-'));
  if (kernels.length !== 1) throw new Error(`expected one kernel in the tree, found ${kernels.join(', ') || 'none'}`);
  const version = kernels[0].slice('vmlinuz-'.length);
  run(['chroot', root, 'update-initramfs', '-c', '-k', version], {
    env: { ...process.env, PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
  for (const d of ['var/cache/apt/archives', 'var/lib/apt/lists', 'var/log/apt']) {
    for (const f of readdirSync(join(root, d))) {
      const p = join(root, d, f);
      if (statSync(p).isFile()) rmSync(p);
    }
  }
  return version;
}

/** debootstrap → configured tree → kernel, initramfs, qcow2 in `out`. */
function build(dir, out) {
  if (process.getuid?.() !== 0) fail('building the QEMU guest needs root (debootstrap, chroot)', 'Run as root.');
  if (!existsSync('/usr/sbin/debootstrap')) fail('debootstrap is not installed', 'apt-get install -y debootstrap');
  const found = debianMirror(SUITE);
  if ('error' in found) fail(found.error, found.hint);
  const proxy = aptProxyEnv();
  const work = mkdtempSync(join(dir, '.qemu-build-'));
  const root = join(work, 'rootfs');
  const stage = join(work, 'out');
  mkdirSync(stage);
  try {
    process.stderr.write(
      `debootstrap ${SUITE} with cloud-init and a kernel from ${found.mirror} (about two minutes)…\n`,
    );
    run(['/usr/sbin/debootstrap', `--include=${PACKAGES.join(',')}`, SUITE, root, found.mirror], {
      env: { ...process.env, ...proxy },
    });
    const version = configureTree(root);
    copyFileSync(join(root, `boot/vmlinuz-${version}`), join(stage, 'vmlinuz'));
    copyFileSync(join(root, `boot/initrd.img-${version}`), join(stage, 'initrd.img'));
    const raw = join(work, 'base.raw');
    run(['mkfs.ext4', '-q', '-L', 'root', '-d', root, '-E', 'lazy_itable_init=0,lazy_journal_init=0', raw, DISK_SIZE]);
    run(['qemu-img', 'convert', '-O', 'qcow2', raw, join(stage, 'base.qcow2')]);
    writeFileSync(join(stage, 'recipe.json'), JSON.stringify({ ...RECIPE, kernelVersion: version }, null, 2) + '\n');
    renameSync(stage, out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main() {
  const rebuild = process.argv.includes('--rebuild');
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `qemu-guest-${RECIPE_HASH}`);
  const result = {
    dir: out,
    image: join(out, 'base.qcow2'),
    kernel: join(out, 'vmlinuz'),
    initrd: join(out, 'initrd.img'),
    append: APPEND,
    built: false,
    buildMs: 0,
  };
  if (rebuild || !existsSync(result.image)) {
    await withLock(join(dir, `qemu-guest-${RECIPE_HASH}.lock`), () => {
      if (!rebuild && existsSync(result.image)) return; // another build finished while we waited
      const t0 = Date.now();
      rmSync(out, { recursive: true, force: true });
      build(dir, out);
      result.built = true;
      result.buildMs = Date.now() - t0;
    });
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err) => fail(err.message));
