/**
 * The workspace side of a code sync: the lock a sync-receive holds while it writes, the scan and
 * read that answer the sync (from the provider's copy of the project when it keeps one, a VM
 * without a shared folder, else from the node folder), and what a held sync wrote, passed on to
 * that copy before the lock is let go.
 */
import { AgentError } from '../errors';
import type { SyncReadResult, SyncScanChange, SyncScanEntry, SyncTarget } from '../protocol';
import { readEntry, scanEntries } from '../sync/scan';
import type { ProviderLookup } from './providers';
import type { WorkspaceRecord } from './state';
import { checkedLogin, syncTarget } from './syncTarget';

export class SyncAccess {
  /** Workspaces whose lock a sync-receive holds now. */
  private readonly held = new Set<string>();

  constructor(
    private readonly providers: ProviderLookup,
    private readonly required: (name: string) => WorkspaceRecord,
    private readonly exclusive: (name: string, fn: () => Promise<void>) => Promise<void>,
  ) {}

  /**
   * The workspace's lock for a sync-receive process: resolves with where (and as whom) to write
   * once earlier operations on the workspace have finished; later ones wait until `released`.
   */
  hold(name: string, released: Promise<void>): Promise<SyncTarget> {
    return new Promise((resolve, reject) => {
      void this.exclusive(name, async () => {
        try {
          const rec = this.required(name);
          const copied = !!this.providers(rec.provider).syncReceived;
          resolve({ ...syncTarget(rec), ...(copied ? { copied: true } : {}) });
        } catch (err) {
          reject(err);
          return;
        }
        this.held.add(name);
        try {
          await released;
        } finally {
          this.held.delete(name);
        }
      });
    });
  }

  /** Which synced paths the workspace changed since the last sync (protocol/sync.ts). */
  async scan(name: string, entries: readonly SyncScanEntry[]): Promise<SyncScanChange[]> {
    const rec = this.required(name);
    const provider = this.providers(rec.provider);
    const fromCopy = rec.providerId && provider.syncScan ? await provider.syncScan(rec.providerId, entries) : undefined;
    return fromCopy ?? scanEntries(rec.nodeFolder, entries);
  }

  async read(name: string, path: string): Promise<SyncReadResult> {
    const rec = this.required(name);
    const provider = this.providers(rec.provider);
    const fromCopy = rec.providerId && provider.syncRead ? await provider.syncRead(rec.providerId, path) : undefined;
    return fromCopy ?? readEntry(rec.nodeFolder, path);
  }

  /** The sync-receive holding the lock wrote (or deleted) `paths` in the node folder. */
  async received(name: string, paths: readonly string[]): Promise<void> {
    if (!this.held.has(name))
      throw new AgentError('INVALID_PARAMS', `No sync of workspace ${name} holds its lock`, {
        hint: 'Only the sync-receive that holds the workspace (workspaces/holdForSync) reports what it wrote.',
      });
    const rec = this.required(name);
    const provider = this.providers(rec.provider);
    if (!rec.providerId || !provider.syncReceived) return;
    const owner = rec.login ? checkedLogin(name, rec.login) : undefined;
    await provider.syncReceived(rec.providerId, paths, owner);
  }
}
