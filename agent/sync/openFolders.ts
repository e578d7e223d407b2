/**
 * The folders a sync receive holds open from its root down, reused across consecutive tar entries
 * (which come grouped by folder). Apart from receive.ts because it is the one part that walks and
 * re-opens folders the workspace may change meanwhile; the receiver only asks it for a folder.
 */
import { errnoCode } from '../errors';
import { Dir } from '../fs/beneath';
import { BeneathError } from '../fs/beneathError';

export type Owner = { uid: number; gid: number };

/**
 * The folders of the entry being worked on, held open from the root down: tar entries come
 * grouped by folder, so consecutive ones reuse them. Held folders are ours by inode; the
 * workspace moving one elsewhere in the tree only moves where we write, never out of the tree.
 */
export class OpenFolders {
  private segs: string[] = [];
  private dirs: Dir[] = [];

  constructor(
    readonly root: Dir,
    private readonly owner?: Owner,
  ) {}

  /**
   * The folder `segs` (made when `create`); undefined when it is missing (or not a folder) and
   * not made. A held folder the workspace deleted meanwhile (ENOENT) is opened afresh, a few times.
   */
  get(segs: readonly string[], create: boolean): Dir | undefined {
    for (let attempt = 0; ; attempt++) {
      try {
        return this.walk(segs, create);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT' || attempt >= 3) throw err;
        this.drop(0);
      }
    }
  }

  private walk(segs: readonly string[], create: boolean): Dir | undefined {
    let keep = 0;
    while (keep < segs.length && keep < this.segs.length && segs[keep] === this.segs[keep]) keep++;
    this.drop(keep);
    for (let i = keep; i < segs.length; i++) {
      const parent = i === 0 ? this.root : this.dirs[i - 1]!;
      let next: Dir | undefined;
      if (create) {
        next = parent.ensureDir(segs[i]!, 0o755, true, (d) => this.own(d));
      } else {
        try {
          next = parent.openDir(segs[i]!);
        } catch (err) {
          if (!(err instanceof BeneathError) || (err.code !== 'LINK_IN_PATH' && err.code !== 'NOT_A_FOLDER')) throw err;
        }
      }
      if (!next) return undefined;
      this.segs.push(segs[i]!);
      this.dirs.push(next);
    }
    return segs.length === 0 ? this.root : this.dirs[segs.length - 1];
  }

  /** Forget held folders below depth `depth` (after deleting or replacing something there). */
  drop(depth: number): void {
    while (this.dirs.length > depth) this.dirs.pop()!.close();
    this.segs.length = depth;
  }

  own(d: Dir): void {
    if (this.owner) d.chown(this.owner.uid, this.owner.gid);
  }

  close(): void {
    this.drop(0);
    this.root.close();
  }
}
