/**
 * What the node's copy of a project holds, for an incremental sync: every regular file and
 * symlink under the node folder (nothing skipped: dot-files, .git, node_modules too), with
 * size, mtime and permission bits. Folders are implied by their files; symlinks are listed
 * themselves (lstat), never followed.
 */
import { lstat, opendir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManifestEntry } from '../protocol';
import { errnoCode } from '../errors';

export async function buildManifest(root: string): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  await walk(root, '', out);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function walk(root: string, rel: string, out: ManifestEntry[]): Promise<void> {
  let dir;
  try {
    dir = await opendir(rel ? join(root, rel) : root);
  } catch (err) {
    // A folder removed while we walk (the workspace writes here too) is simply not there.
    if (errnoCode(err) === 'ENOENT' || (rel && errnoCode(err) === 'ENOTDIR')) return;
    throw err;
  }
  for await (const d of dir) {
    const path = rel ? `${rel}/${d.name}` : d.name;
    let st;
    try {
      st = await lstat(join(root, path));
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') continue;
      throw err;
    }
    if (st.isDirectory()) await walk(root, path, out);
    else if (st.isFile() || st.isSymbolicLink()) out.push({ path, size: st.size, mtimeMs: st.mtimeMs, mode: st.mode & 0o7777 });
  }
}
