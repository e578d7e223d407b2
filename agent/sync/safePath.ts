/**
 * Which paths and link targets a sync stream may name. Pure checks on the text; the receiver
 * adds the checks that need the disk (real parents, no writes through symlinks).
 */
import { posix } from 'node:path';

export class UnsafePath extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${JSON.stringify(path.slice(0, 200))}: ${reason}`);
    this.name = 'UnsafePath';
  }
}

/**
 * A path relative to the project root, as POSIX segments: `./` prefixes and a trailing `/` are
 * dropped; absolute paths, `..`, empty segments, NUL and the root itself are refused.
 */
export function relativeSegments(raw: string): string[] {
  if (raw.includes('\0')) throw new UnsafePath(raw, 'contains a NUL byte');
  if (raw.startsWith('/')) throw new UnsafePath(raw, 'is an absolute path');
  const parts = raw.replace(/\/+$/, '').split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '.') continue;
    if (p === '..') throw new UnsafePath(raw, 'contains ".."');
    if (p === '') throw new UnsafePath(raw, 'contains an empty path segment');
    out.push(p);
  }
  if (out.length === 0) throw new UnsafePath(raw, 'names the project root itself');
  if (out.join('/').length > 4096) throw new UnsafePath(raw, 'is longer than 4096 characters');
  return out;
}

/** Whether a tar path names the root folder itself (`./`, `.`), which tars often carry first. */
export function isRootPath(raw: string): boolean {
  return raw
    .replace(/\/+$/, '')
    .split('/')
    .every((p) => p === '.' || p === '');
}

/**
 * A symlink target must stay in the project: relative, with `..` only at its start (climbing the
 * real folders above the link, never back out of a folder a link led into), ending inside.
 * `linkDir` is the link's folder relative to the root ('' for the root).
 */
export function checkSymlinkTarget(linkPath: string, target: string, linkDir: string): void {
  if (target.length === 0) throw new UnsafePath(linkPath, 'is a symlink with an empty target');
  if (target.includes('\0')) throw new UnsafePath(linkPath, 'is a symlink whose target contains a NUL byte');
  if (target.startsWith('/'))
    throw new UnsafePath(linkPath, `is a symlink to the absolute path ${JSON.stringify(target.slice(0, 200))}`);
  const parts = target.split('/').filter((p) => p !== '' && p !== '.');
  let seenName = false;
  for (const p of parts) {
    if (p === '..' && seenName)
      throw new UnsafePath(
        linkPath,
        `is a symlink whose target ${JSON.stringify(target.slice(0, 200))} goes back up after going down`,
      );
    if (p !== '..') seenName = true;
  }
  const resolved = posix.normalize(posix.join(linkDir || '.', target));
  if (resolved === '..' || resolved.startsWith('../'))
    throw new UnsafePath(linkPath, `is a symlink to ${JSON.stringify(target.slice(0, 200))}, outside the project`);
}
