/**
 * Images for workspace tests, made from local files only (no registry):
 * - `vendetta/debian:bookworm`: debootstrap'd Debian with OpenSSH and Node.js, built once per
 *   machine into a cached tarball by scripts/image/build-debian-image.mjs (~40 s cold), then
 *   imported into an engine in ~2 s; free when the engine already has it.
 * - `vendetta-test/debian-nosshd:bookworm`: debootstrap'd Debian minbase with busybox and no OpenSSH
 *   server, cached and imported the same way (the same script, --without-sshd).
 * - `vendetta-test/busybox:latest`: /bin/busybox alone (FROM scratch), an image without sshd.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dockerCalls } from '../../agent/providers/docker/api';
import { EngineClient } from '../../agent/providers/docker/engine';
import { parseBuildLine } from '../../agent/providers/docker/parse';
import { tarBuffer } from '../../common/tar/encode';

export const TEST_IMAGE = 'vendetta/debian:bookworm';
export const NOSSHD_IMAGE = 'vendetta-test/debian-nosshd:bookworm';
export const BUSYBOX_IMAGE = 'vendetta-test/busybox:latest';
const ROOT = join(__dirname, '../..');
const BUILD_SCRIPT = join(ROOT, 'scripts/image/build-debian-image.mjs');

export interface ImageReport {
  image: string;
  /** The tarball was debootstrapped in this call (cold). */
  built: boolean;
  buildMs: number;
  imported: boolean;
  importMs: number;
}

async function hasImage(engine: EngineClient, image: string): Promise<boolean> {
  return (await engine.send(dockerCalls.imageInspect(image))).status === 200;
}

/** The Debian workspace image in the engine on `dockerSocket`: built (once per machine) and imported if missing. */
export function ensureTestImage(dockerSocket: string): Promise<ImageReport> {
  return ensureDebianImage(dockerSocket, TEST_IMAGE, []);
}

/** The Debian image without an OpenSSH server (busybox only) in the engine on `dockerSocket`. */
export function ensureNoSshdImage(dockerSocket: string): Promise<ImageReport> {
  return ensureDebianImage(dockerSocket, NOSSHD_IMAGE, ['--without-sshd']);
}

async function ensureDebianImage(dockerSocket: string, image: string, flags: string[]): Promise<ImageReport> {
  if (await hasImage(new EngineClient(dockerSocket), image))
    return { image, built: false, buildMs: 0, imported: false, importMs: 0 };
  const child = spawn(
    process.execPath,
    [BUILD_SCRIPT, '--import', '--docker-host', `unix://${dockerSocket}`, '--tag', image, ...flags],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`building ${image} failed (exit ${code}):\n${err.trim()}`);
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}') as ImageReport;
  return { image, built: r.built, buildMs: r.buildMs, imported: r.imported, importMs: r.importMs };
}

/** Imports a tar as an image (POST /images/create?fromSrc=-); the reply streams JSON lines. */
export async function importImage(
  engine: EngineClient,
  tar: Buffer,
  ref: string,
  changes: string[] = [],
): Promise<void> {
  const colon = ref.lastIndexOf(':');
  const query: Record<string, string> = { fromSrc: '-', repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  const path = `/images/create?${new URLSearchParams([...Object.entries(query), ...changes.map((c) => ['changes', c] as [string, string])])}`;
  let failure: string | undefined;
  await engine.send(
    { method: 'POST', path, accept: [200], what: `import ${ref}` },
    {
      body: tar,
      contentType: 'application/x-tar',
      onChunk: (c) => {
        for (const line of c.toString().split('\n')) {
          const m = parseBuildLine(line);
          if (m?.kind === 'error') failure = m.message;
        }
      },
    },
  );
  if (failure) throw new Error(`importing ${ref}: ${failure}`);
}

/** An image with a static busybox and nothing else (no sshd, no libc): about a second. */
export async function ensureBusyboxImage(dockerSocket: string): Promise<string> {
  const engine = new EngineClient(dockerSocket);
  if (await hasImage(engine, BUSYBOX_IMAGE)) return BUSYBOX_IMAGE;
  const busybox = readFileSync('/bin/busybox');
  // Every applet linked, as `busybox --install -s /bin` would: a shell and its tools, nothing else.
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((n) => /^[a-z0-9_.[-]+$/.test(n) && n !== 'busybox');
  const links = applets.map((name) => ({
    path: `bin/${name}`,
    type: 'symlink' as const,
    mode: 0o777,
    linkname: 'busybox',
  }));
  const tar = tarBuffer([
    { path: 'bin/', type: 'directory', mode: 0o755 },
    { path: 'bin/busybox', type: 'file', mode: 0o755, data: busybox },
    ...links,
    { path: 'tmp/', type: 'directory', mode: 0o1777 },
  ]);
  await importImage(engine, tar, BUSYBOX_IMAGE, ['ENV PATH=/bin', 'CMD ["/bin/sh"]']);
  return BUSYBOX_IMAGE;
}
