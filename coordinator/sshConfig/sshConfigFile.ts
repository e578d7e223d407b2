/** `$VENDETTA_HOME/ssh_config` on disk: read, change one block, replace atomically (0600). */
import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../../common/fs/atomicWrite';
import { hasBlock, removeBlock, upsertBlock, type HostBlock } from './blocks';

export class SshConfigFile {
  constructor(readonly file: string) {}

  read(): string {
    try {
      return readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
  }

  upsert(block: HostBlock): void {
    const before = this.read();
    const after = upsertBlock(before, block);
    if (after !== before) writeFileAtomicSync(this.file, after, { mode: 0o600, createDir: true });
  }

  /**
   * Rewrites the blocks that exist among `blocks` (one read, one write); returns how many changed.
   * Blocks not in the file stay out: only `workspace up` adds one, after pinning the host key.
   */
  refresh(blocks: readonly HostBlock[]): number {
    const before = this.read();
    let after = before;
    let changed = 0;
    for (const b of blocks) {
      if (!hasBlock(after, b.alias)) continue;
      const next = upsertBlock(after, b);
      if (next !== after) changed++;
      after = next;
    }
    if (after !== before) writeFileAtomicSync(this.file, after, { mode: 0o600, createDir: true });
    return changed;
  }

  /** Removes the alias's block; false when there was none. */
  remove(alias: string): boolean {
    const before = this.read();
    if (!hasBlock(before, alias)) return false;
    writeFileAtomicSync(this.file, removeBlock(before, alias), { mode: 0o600, createDir: true });
    return true;
  }

  has(alias: string): boolean {
    return hasBlock(this.read(), alias);
  }
}
