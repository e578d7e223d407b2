/** Content ids of laptop files, in the form the node's agent computes them (agent/protocol/sync.ts). */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { fileContentId, linkContentId } from '../../agent/protocol';
import { VendettaError } from '../errors';
import type { LocalFile } from './fileList';

const CHUNK = 256 * 1024;
const PARALLEL = 8;

export function isExecutable(mode: number): boolean {
  return (mode & 0o111) !== 0;
}

export function linkId(target: string): string {
  return linkContentId(createHash('sha256').update(target).digest('hex'));
}

async function fileId(f: LocalFile): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(f.abs, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let pos = 0; ; ) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return fileContentId(hash.digest('hex'), isExecutable(f.mode));
}

/** path → content id of each file, a few at a time; a file gone meanwhile has none (it is compared as changed). */
export async function contentIds(files: readonly LocalFile[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const f = files[next++]!;
      try {
        out.set(f.path, f.kind === 'symlink' ? linkId(f.linkTarget ?? '') : await fileId(f));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new VendettaError('SYNC_FAILED', `Cannot read ${f.abs}: ${(err as Error).message}`, {
          hint: "Check the file's permissions.",
          cause: err,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, files.length) }, worker));
  return out;
}
