/**
 * Paths the file tools accept: relative to the workspace folder, or absolute inside it. This is
 * the first of two checks, on the text alone (`..`, absolute paths elsewhere); the second runs in
 * the workspace itself (folderScripts.ts), where symlinks are resolved before anything is read or
 * written, so a link pointing out of the folder is refused too.
 */
import { posix } from 'node:path';
import { VendettaError } from '../errors';

/** The absolute, normalised path of `path` inside `folder`, or a PATH_OUTSIDE error. */
export function pathInFolder(folder: string, path: string): string {
  if (path.includes('\0')) throw outside(path, folder, 'it contains a NUL byte');
  const root = posix.normalize(folder).replace(/\/+$/, '') || '/';
  const full = posix.normalize(posix.isAbsolute(path) ? path : posix.join(root, path)).replace(/(.)\/+$/, '$1');
  if (full === root || full.startsWith(root === '/' ? '/' : `${root}/`)) return full;
  throw outside(path, folder, posix.isAbsolute(path) ? 'it is an absolute path elsewhere' : 'it climbs out with ..');
}

export function outside(path: string, folder: string, why: string): VendettaError {
  return new VendettaError(
    'INVALID_PARAMS',
    `${JSON.stringify(path)} is outside the workspace folder ${folder}: ${why}`,
    {
      hint: `The file tools work inside ${folder} only; give a path relative to it. The exec tool can reach the rest of the workspace.`,
      details: { reason: 'PATH_OUTSIDE' },
    },
  );
}
