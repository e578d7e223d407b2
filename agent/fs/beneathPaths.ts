/**
 * Paths below a held folder, step by step through beneath.ts's Dir: open a nested folder one
 * segment at a time (never through a link), or delete a whole tree by its absolute path.
 */
import { errnoCode } from '../errors';
import { Dir } from './beneath';

/**
 * Deletes the tree at `abs` (nothing when it is missing) through descriptors: its parent must be
 * trusted (the agent's own), everything below it may change meanwhile and is never followed.
 */
export function removeTreeAt(abs: string): boolean {
  const path = abs.replace(/\/+$/, '');
  const slash = path.lastIndexOf('/');
  let parent: Dir;
  try {
    parent = Dir.openRoot(path.slice(0, slash) || '/');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
  try {
    return parent.remove(path.slice(slash + 1));
  } finally {
    parent.close();
  }
}

/**
 * Opens the folder at `segments` below `root`, one segment at a time, never through a link.
 * Missing folders are made when `create` (with `made` run on each), and then a file or link in
 * the way is replaced; else undefined when one is missing. The caller closes what it gets
 * (which is `root` itself for no segments).
 */
export function openBeneath(
  root: Dir,
  segments: readonly string[],
  create?: { mode: number; made?: (d: Dir) => void },
): Dir | undefined {
  let cur = root;
  try {
    for (const seg of segments) {
      const next = create ? cur.ensureDir(seg, create.mode, true, create.made) : cur.openDir(seg);
      if (cur !== root) cur.close();
      if (!next) return undefined;
      cur = next;
    }
    return cur;
  } catch (err) {
    if (cur !== root) cur.close();
    throw err;
  }
}
