/**
 * The hash of a `docker.build`'s inputs, which names the built image
 * (`vendetta-ws/<workspace>:<hash>`): the Dockerfile's name, the context's name, and every file
 * the sync sends from inside the context (path, kind, permission bits, content), the build
 * arguments and target. A changed Dockerfile, context file, argument or target gives a new name, and so tells `up` the container is outdated.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { listProjectFiles } from '../sync/fileList';

export interface BuildInputs {
  context: string;
  dockerfile?: string;
  args?: Record<string, string>;
  target?: string;
}

/** 16 hex digits of a SHA-256: a tag, not a security boundary. */
export async function buildInputsHash(root: string, build: BuildInputs): Promise<string> {
  const context = posix.normalize(build.context).replace(/\/+$/, '');
  const prefix = context === '.' ? '' : `${context}/`;
  const h = createHash('sha256');
  // Arguments and target join only when given, so an image built without them keeps its name.
  const args =
    build.args && Object.keys(build.args).length
      ? Object.fromEntries(Object.entries(build.args).sort(([a], [b]) => (a < b ? -1 : 1)))
      : undefined;
  h.update(
    JSON.stringify({
      context,
      dockerfile: build.dockerfile ?? 'Dockerfile',
      ...(args ? { args } : {}),
      ...(build.target !== undefined ? { target: build.target } : {}),
    }),
  );
  await hashProjectFiles(h, root, [prefix]);
  return h.digest('hex').slice(0, 16);
}

/** Adds every file the sync sends from below the folders `prefixes` (`dir/`, or `` for all): path, kind, bits, content. */
export async function hashProjectFiles(h: Hash, root: string, prefixes: readonly string[]): Promise<void> {
  const { files } = await listProjectFiles(root);
  const inside = files
    .filter((f) => prefixes.some((p) => f.path.startsWith(p)))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const f of inside) {
    h.update(`\0${f.path}\0${f.kind}\0${(f.mode & 0o777).toString(8)}\0`);
    if (f.kind === 'symlink') h.update(f.linkTarget ?? '');
    else await hashFile(h, f.abs);
  }
}

async function hashFile(h: Hash, file: string): Promise<void> {
  await pipeline(createReadStream(file), async (chunks: AsyncIterable<Buffer>) => {
    for await (const c of chunks) h.update(c);
  });
}
