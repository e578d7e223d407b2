#!/usr/bin/env node
// Builds what a "fresh Debian box" test node is made of, once per machine, from the cached image
// tarball (debian-bookworm.tar, built by build-debian-image.mjs) rather than a new debootstrap:
// - a root file system with OpenSSH and sudo and NO Node.js (the image's nodejs purged), and a user
//   `debian` (keys only, as on Debian's cloud images), cached as a directory;
// - Docker's Debian packages (docker.io and what it needs on that tree, no recommends), downloaded
//   once from Debian's archive and kept with a `Packages` index: a flat apt repository a node
//   without a route to the internet uses as its only source.
// The build runs apt inside the tree (chroot, this machine's network) in a private mount namespace,
// so nothing stays mounted; the result is renamed into place only when complete, under a lock.
//
//   node scripts/image/build-debian-node.mjs [--rebuild]
//
// Prints one JSON line: {rootfs, debs, built, buildMs}. Needs root. Env: VENDETTA_IMAGE_CACHE
// (default ~/.cache/vendetta/images), VENDETTA_DEBIAN_MIRROR (default: this machine's apt mirror).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { aptProxyEnv, debianMirror } from './aptSources.mjs';
import { run, withLock } from './buildLock.mjs';

/** Bumped when what the build makes changes, so an older cache entry is rebuilt. */
const VERSION = 2;
const SUITE = 'bookworm';
/** What `node prepare --provider docker` installs on Debian (coordinator/ssh/packagePlans.ts). */
const DOCKER_PACKAGES = ['docker.io'];
const NODE_USER = 'debian';

function fail(message, hint) {
  process.stderr.write(`error: ${message}\n${hint ? `hint: ${hint}\n` : ''}`);
  process.exit(1);
}

const cacheDir = () => process.env.VENDETTA_IMAGE_CACHE || join(homedir(), '.cache/vendetta/images');

/** Runs a shell script inside the tree, with /proc mounted in a mount namespace of its own. */
function inTree(root, script, env) {
  return run(
    [
      'unshare',
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount -t proc proc "$1/proc" && exec chroot "$1" sh -ec "$2"',
      'sh',
      root,
      script,
    ],
    { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', ...env } },
  );
}

/** The `Packages` stanza apt reads for one .deb in a flat repository (`deb [trusted=yes] file:DIR ./`). */
function packagesStanza(dir, file) {
  const path = join(dir, file);
  const control = run(['dpkg-deb', '-f', path]).stdout.trimEnd();
  const data = readFileSync(path);
  const sha256 = createHash('sha256').update(data).digest('hex');
  return `${control}\nFilename: ./${file}\nSize: ${statSync(path).size}\nSHA256: ${sha256}\n`;
}

async function build(out) {
  const image = join(cacheDir(), 'debian-bookworm.tar');
  if (!existsSync(image)) {
    // The image is the shared cache entry; build it once the ordinary way.
    run([process.execPath, join(import.meta.dirname, 'build-debian-image.mjs')]);
  }
  const found = debianMirror(SUITE);
  if ('error' in found) fail(found.error, found.hint);
  const work = `${out.rootfs}.building-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  const root = join(work, 'rootfs');
  const debs = join(work, 'debs');
  mkdirSync(root, { recursive: true });
  mkdirSync(debs, { recursive: true });
  try {
    run(['tar', '-C', root, '-xf', image]);
    writeFileSync(join(root, 'etc/resolv.conf'), readFileSync('/etc/resolv.conf'));
    writeFileSync(join(root, 'etc/apt/sources.list'), `deb ${found.mirror} ${SUITE} main\n`);
    const env = aptProxyEnv();
    inTree(
      root,
      [
        'apt-get update -q',
        'apt-get install -y -q --no-install-recommends sudo',
        'apt-get purge -y -q --auto-remove nodejs',
        'apt-get clean',
        `apt-get install -y -q --download-only --no-install-recommends ${DOCKER_PACKAGES.join(' ')}`,
        `useradd -m -s /bin/bash ${NODE_USER}`,
        `usermod -p '*' ${NODE_USER}`,
        'command -v node >/dev/null && { echo "Node.js is still there" >&2; exit 1; } || true',
      ].join('\n'),
      env,
    );
    const archives = join(root, 'var/cache/apt/archives');
    const files = readdirSync(archives).filter((f) => f.endsWith('.deb'));
    if (!files.some((f) => f.startsWith('docker.io_'))) fail('apt downloaded no docker.io package');
    // apt-get names a file with an epoch `dmsetup_2%3a1.02…`; the archive's pool names it without one.
    const names = files.map((f) => f.replace(/_\d+%3a/, '_'));
    files.forEach((f, i) => renameSync(join(archives, f), join(debs, names[i])));
    writeFileSync(join(debs, 'Packages'), names.map((f) => packagesStanza(debs, f)).join('\n'));
    // A fresh box knows no package lists yet, and its sources are set per node.
    rmSync(join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
    mkdirSync(join(root, 'var/lib/apt/lists/partial'), { recursive: true });
    writeFileSync(join(root, 'etc/apt/sources.list'), '');
    writeFileSync(join(root, 'etc/resolv.conf'), '');
    rmSync(out.rootfs, { recursive: true, force: true });
    rmSync(out.debs, { recursive: true, force: true });
    renameSync(root, out.rootfs);
    renameSync(debs, out.debs);
    writeFileSync(out.marker, JSON.stringify({ version: VERSION, built: new Date().toISOString() }));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function complete(out) {
  try {
    return JSON.parse(readFileSync(out.marker, 'utf8')).version === VERSION && existsSync(join(out.debs, 'Packages'));
  } catch {
    return false;
  }
}

async function main() {
  if (process.getuid?.() !== 0) fail('building the node tree needs root (chroot, unshare)');
  const rebuild = process.argv.includes('--rebuild');
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  const out = {
    rootfs: join(dir, 'debian-node-rootfs'),
    debs: join(dir, 'debian-node-docker-debs'),
    marker: join(dir, 'debian-node.json'),
  };
  const t0 = Date.now();
  let built = false;
  await withLock(join(dir, 'debian-node.lock'), async () => {
    if (rebuild || !complete(out)) {
      rmSync(out.marker, { force: true });
      process.stderr.write('building the Debian node tree and its Docker packages (about 40 s, once)…\n');
      await build(out);
      built = true;
    }
  });
  process.stdout.write(
    JSON.stringify({ rootfs: out.rootfs, debs: out.debs, user: NODE_USER, built, buildMs: Date.now() - t0 }) + '\n',
  );
}

await main();
