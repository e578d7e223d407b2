/**
 * What the last successful sync of each workspace left on its node (path → size, mtime), in
 * `$VENDETTA_HOME/state/sync/<node>/<workspace>.json`: the only files a later sync may delete.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { HomePaths } from '../home';
import { writeFileAtomicSync } from '../nodes/atomicFile';
import type { SyncedEntry } from './diff';

export class SyncStateStore {
  constructor(private readonly dir: string) {}

  static forHome(paths: HomePaths): SyncStateStore {
    return new SyncStateStore(join(paths.stateDir, 'sync'));
  }

  private file(node: string, workspace: string): string {
    return join(this.dir, node, `${workspace}.json`);
  }

  /** undefined when there is no record (first sync, or the record was lost): then nothing is deleted. */
  load(node: string, workspace: string): Map<string, SyncedEntry> | undefined {
    let text: string;
    try {
      text = readFileSync(this.file(node, workspace), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed = JSON.parse(text) as { files?: unknown };
      if (!Array.isArray(parsed.files)) return undefined;
      const out = new Map<string, SyncedEntry>();
      for (const f of parsed.files) {
        if (Array.isArray(f) && typeof f[0] === 'string' && typeof f[1] === 'number' && typeof f[2] === 'number') out.set(f[0], { size: f[1], mtimeMs: f[2] });
      }
      return out;
    } catch {
      return undefined;
    }
  }

  save(node: string, workspace: string, files: ReadonlyMap<string, SyncedEntry>): void {
    const rows = [...files].map(([p, e]) => [p, e.size, e.mtimeMs]);
    writeFileAtomicSync(this.file(node, workspace), JSON.stringify({ files: rows }) + '\n', 0o600);
  }

  remove(node: string, workspace: string): void {
    rmSync(this.file(node, workspace), { force: true });
  }
}
