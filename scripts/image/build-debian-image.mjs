#!/usr/bin/env node
// Builds the workspace image `vendetta/debian:bookworm` from Debian packages alone (no registry):
// debootstrap a minimal bookworm with OpenSSH, Node.js, busybox and procps (with --without-sshd:
// busybox alone, an image with no SSH server, for the server the agent brings), cache the root file
// system as a tarball, and import it into a Docker engine. The tarball is built once per machine
// (a lock keeps concurrent builds from racing) and reused; an import happens only when the engine
// lacks the image. Needs root for debootstrap.
//
//   node scripts/image/build-debian-image.mjs [--import] [--docker-host unix:///path.sock]
//                                             [--tag vendetta/debian:bookworm] [--rebuild] [--without-sshd]
//                                             [--init systemd]
//
// `--init systemd` builds the tree for system containers (LXD): systemd as /sbin/init, cached as
// debian-bookworm-systemd.tar; it cannot be imported into Docker (--import refuses it).
// Prints one JSON line: {tar, built, buildMs, imported, importMs, image}.
// Env: VENDETTA_IMAGE_CACHE (default ~/.cache/vendetta/images), DOCKER_HOST, VENDETTA_DEBIAN_MIRROR
// (default: the mirror this machine's apt sources name; apt's proxy is used too).
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { aptProxyEnv, debianMirror } from './aptSources.mjs';
import { run, withLock } from './buildLock.mjs';

const PACKAGES = ['openssh-server', 'iproute2', 'nodejs', 'busybox', 'procps'];
const PACKAGES_WITHOUT_SSHD = ['busybox'];
/** A system container boots the image's own init. */
const SYSTEMD_PACKAGES = ['systemd-sysv'];
const SUITE = 'bookworm';
const DEFAULT_TAG = 'vendetta/debian:bookworm';
const ENV_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function parseArgs(argv) {
  const out = {
    import: false,
    dockerHost: process.env.DOCKER_HOST,
    tag: DEFAULT_TAG,
    rebuild: false,
    withoutSshd: false,
    systemd: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--import') out.import = true;
    else if (a === '--rebuild') out.rebuild = true;
    else if (a === '--without-sshd') out.withoutSshd = true;
    else if (a === '--docker-host') out.dockerHost = argv[++i];
    else if (a === '--tag') out.tag = argv[++i];
    else if (a === '--init') {
      if (argv[++i] !== 'systemd') fail(`--init takes only systemd, not ${argv[i]}`);
      out.systemd = true;
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'usage: build-debian-image.mjs [--import] [--docker-host unix:///sock] [--tag repo:tag] [--rebuild] [--without-sshd] [--init systemd]\n',
      );
      process.exit(0);
    } else fail(`unknown argument ${a}`);
  }
  return out;
}

function fail(message, hint) {
  process.stderr.write(`error: ${message}\n${hint ? `hint: ${hint}\n` : ''}`);
  process.exit(1);
}

function cacheDir(env = process.env) {
  return env.VENDETTA_IMAGE_CACHE || join(homedir(), '.cache/vendetta/images');
}

/** debootstrap → cleaned tree → tarball, renamed into place only when complete. */
function buildTarball(dir, tar, packages) {
  if (process.getuid?.() !== 0)
    fail(
      'building the image needs root (debootstrap)',
      'Run as root, or put a prepared debian-bookworm.tar in the cache folder.',
    );
  if (!existsSync('/usr/sbin/debootstrap')) fail('debootstrap is not installed', 'apt-get install -y debootstrap');
  const found = debianMirror(SUITE);
  if ('error' in found) fail(found.error, found.hint);
  const proxy = aptProxyEnv();
  const work = mkdtempSync(join(dir, '.build-'));
  const rootfs = join(work, 'rootfs');
  try {
    const via = Object.values(proxy).length ? ` via ${Object.values(proxy)[0]}` : '';
    process.stderr.write(`debootstrap ${SUITE} from ${found.mirror}${via} (about a minute)…\n`);
    run(
      ['/usr/sbin/debootstrap', '--variant=minbase', `--include=${packages.join(',')}`, SUITE, rootfs, found.mirror],
      { env: { ...process.env, ...proxy } },
    );
    // The agent brings each workspace's host key; no image-wide keys, caches or machine identity.
    const etcSsh = join(rootfs, 'etc/ssh');
    for (const f of existsSync(etcSsh) ? readdirSync(etcSsh) : [])
      if (f.startsWith('ssh_host_')) rmSync(join(etcSsh, f));
    for (const d of ['var/cache/apt/archives', 'var/lib/apt/lists', 'var/log/apt']) {
      for (const f of readdirSync(join(rootfs, d))) {
        const p = join(rootfs, d, f);
        if (statSync(p).isFile()) rmSync(p);
      }
    }
    rmSync(join(rootfs, 'var/log/bootstrap.log'), { force: true });
    // Documentation and translations are a quarter of the tree; every import would copy them.
    for (const d of ['usr/share/man', 'usr/share/info', 'usr/share/locale']) {
      for (const f of readdirSync(join(rootfs, d)))
        if (f !== 'locale.alias') rmSync(join(rootfs, d, f), { recursive: true, force: true });
    }
    for (const pkg of readdirSync(join(rootfs, 'usr/share/doc'))) {
      for (const f of readdirSync(join(rootfs, 'usr/share/doc', pkg)))
        if (f !== 'copyright') rmSync(join(rootfs, 'usr/share/doc', pkg, f), { recursive: true, force: true });
    }
    run(['truncate', '-s', '0', join(rootfs, 'etc/machine-id')]);
    if (packages.includes('openssh-server')) mkdirSync(join(rootfs, 'run/sshd'), { recursive: true, mode: 0o755 });
    const partial = `${tar}.partial-${process.pid}`;
    run(['tar', '--numeric-owner', '-C', rootfs, '-cf', partial, '.']);
    renameSync(partial, tar);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function socketOf(dockerHost) {
  const host = dockerHost?.trim() || 'unix:///var/run/docker.sock';
  if (!host.startsWith('unix://'))
    fail(
      `DOCKER_HOST=${host} is not a Unix socket`,
      'Point DOCKER_HOST (or --docker-host) at unix:///path/to/docker.sock',
    );
  return host.slice('unix://'.length);
}

function api(socketPath, method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers: { Host: 'docker', ...headers } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body && typeof body.pipe === 'function') body.pipe(req);
    else req.end(body);
  });
}

async function imageExists(socketPath, tag) {
  const r = await api(socketPath, 'GET', `/images/${encodeRef(tag)}/json`);
  if (r.status === 200) return true;
  if (r.status === 404) return false;
  throw new Error(`GET image ${tag}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
}

/** Image references keep their `/` and `:` in the path; everything else is escaped. */
function encodeRef(ref) {
  return ref.split('/').map(encodeURIComponent).join('/').replace(/%3A/g, ':');
}

async function importTarball(socketPath, tar, tag) {
  const colon = tag.lastIndexOf(':');
  const repo = colon > tag.lastIndexOf('/') ? tag.slice(0, colon) : tag;
  const t = colon > tag.lastIndexOf('/') ? tag.slice(colon + 1) : 'latest';
  const q = new URLSearchParams({ fromSrc: '-', repo, tag: t });
  q.append('changes', `ENV ${ENV_PATH}`);
  q.append('changes', 'CMD ["/bin/bash"]');
  const r = await api(socketPath, 'POST', `/images/create?${q}`, createReadStream(tar, { highWaterMark: 1 << 20 }), {
    'Content-Type': 'application/x-tar',
    'Content-Length': String(statSync(tar).size),
  });
  // The reply is a JSON-lines progress stream; a failure is an `error` field with HTTP 200.
  const failed = r.body
    .split('\n')
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return undefined;
      }
    })
    .find((m) => m && m.error);
  if (r.status !== 200 || failed)
    throw new Error(`importing ${tar} as ${tag}: ${failed?.error ?? `HTTP ${r.status} ${r.body.slice(0, 300)}`}`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  if (args.systemd && (args.import || args.withoutSshd))
    fail(
      '--init systemd builds a tree with OpenSSH for system containers; Docker runs images without an init',
      'Leave out --import and --without-sshd (the LXD test infra imports it into LXD).',
    );
  const name = args.systemd
    ? 'debian-bookworm-systemd'
    : args.withoutSshd
      ? 'debian-bookworm-nosshd'
      : 'debian-bookworm';
  const tar = join(dir, `${name}.tar`);
  const result = { tar, built: false, buildMs: 0, imported: false, importMs: 0, image: args.tag };
  if (args.rebuild || !existsSync(tar)) {
    await withLock(join(dir, `${name}.lock`), () => {
      if (!args.rebuild && existsSync(tar)) return; // another build finished while we waited
      const t0 = Date.now();
      if (args.rebuild) rmSync(tar, { force: true });
      buildTarball(
        dir,
        tar,
        args.systemd ? [...PACKAGES, ...SYSTEMD_PACKAGES] : args.withoutSshd ? PACKAGES_WITHOUT_SSHD : PACKAGES,
      );
      result.built = true;
      result.buildMs = Date.now() - t0;
    });
  }
  if (args.import) {
    const socket = socketOf(args.dockerHost);
    const t0 = Date.now();
    if (args.rebuild || !(await imageExists(socket, args.tag))) {
      await importTarball(socket, tar, args.tag);
      result.imported = true;
    }
    result.importMs = Date.now() - t0;
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err) => fail(err.message));
