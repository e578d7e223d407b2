/**
 * A base image named by URL (`qemu.image: https://…` with `qemu.imageSha256`): downloaded once
 * per node into the agent's image cache under its checksum, hashed while it streams in, and kept
 * only when the sha256 matches; a wrong checksum or a broken download leaves nothing behind.
 * Node's own fetch does the HTTP (no extra dependency); the checksum is the cache key, so two
 * workspaces on the same image share one file and a changed image at the same URL is fetched anew.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KeyedMutex } from '../../../common/async/keyedMutex';
import { AgentError } from '../../errors';

export function isImageUrl(image: string): boolean {
  return /^https?:\/\//i.test(image);
}

export class ImageCache {
  private readonly lock = new KeyedMutex();

  constructor(readonly dir: string) {}

  /** Where the image with this checksum is (or will be) kept. */
  path(sha256: string): string {
    return join(this.dir, `${sha256}.img`);
  }

  /** The local path of the image: the cached copy, downloaded first when there is none. */
  async ensure(url: string, sha256: string | undefined, progress: (m: string) => void): Promise<string> {
    if (!sha256 || !/^[0-9a-f]{64}$/.test(sha256))
      throw new AgentError(
        'INVALID_PARAMS',
        `The base image ${url} is a URL, so it needs its sha256 (qemu.imageSha256)`,
        {
          provider: 'qemu',
          hint: 'Add `imageSha256: <64 hex digits>` under `qemu:` (e.g. from the image publisher’s SHA256SUMS).',
        },
      );
    const path = this.path(sha256);
    return this.lock.run(sha256, async () => {
      if (existsSync(path)) return path;
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const part = `${path}.part-${randomBytes(4).toString('hex')}`;
      try {
        progress(`Downloading the base image ${url} (once; kept in ${this.dir})`);
        const actual = await download(url, part);
        if (actual !== sha256)
          throw new AgentError(
            'IMAGE_PULL_FAILED',
            `The base image downloaded from ${url} has the sha256 ${actual}, not ${sha256}`,
            {
              provider: 'qemu',
              hint: 'The file at the URL is not the one qemu.imageSha256 names (changed, truncated or tampered with): check both; nothing was kept.',
            },
          );
        renameSync(part, path);
        return path;
      } finally {
        rmSync(part, { force: true });
      }
    });
  }
}

/** Streams `url` into `file` and returns the sha256 (hex) of what arrived. */
async function download(url: string, file: string): Promise<string> {
  const failed = (why: string, cause?: unknown) =>
    new AgentError('IMAGE_PULL_FAILED', `The node could not download the base image ${url}: ${why}`, {
      provider: 'qemu',
      hint: 'Check that the URL in qemu.image is right and that the node (not only your machine) reaches it.',
      ...(cause ? { cause } : {}),
    });
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw failed(cause?.code ?? cause?.message ?? (err as Error).message, err);
  }
  if (!res.ok || !res.body) throw failed(`HTTP ${res.status} ${res.statusText}`.trim());
  const hash = createHash('sha256');
  try {
    await pipeline(
      Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const c of chunks) {
          hash.update(c);
          yield c;
        }
      },
      createWriteStream(file, { mode: 0o600 }),
    );
  } catch (err) {
    throw failed(`the transfer broke off (${(err as Error).message})`, err);
  }
  return hash.digest('hex');
}
