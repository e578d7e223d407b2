/**
 * The project's copy in the VMs without a 9p share: the node folder stays the agent's copy (the
 * coordinator's sync writes it, as for every provider), and the guest's folder is brought to it
 * over the held SSH connection (guestPush.ts) after each boot and each sync. The sync's questions
 * (which paths the workspace changed, a file's bytes for a conflict) are answered from the guest
 * itself (guestTree.ts), so an edit made in the guest is the workspace's change, never
 * overwritten. While the guest cannot answer (off, booting), the node folder answers, and the
 * next push keeps whatever the guest changed since the last one.
 */
import { KeyedMutex } from '../../../common/async/keyedMutex';
import type { SyncReadResult, SyncScanChange, SyncScanEntry } from '../../protocol';
import { changesOf } from '../../sync/scan';
import { pushToGuest, type PushResult } from './guestPush';
import { guestEntries, guestRead } from './guestTree';
import type { GuestConnection } from './guestSsh';
import { livePid } from './vmProcess';
import type { VmRecord, VmStore } from './vmStore';

export class GuestCopies {
  /** VMs booting now: their guest does not answer yet. */
  readonly starting = new Set<string>();
  /** VMs whose last scan read the guest: their next sync's paths were decided against it. */
  private readonly scannedGuest = new Set<string>();
  /** One copy operation per VM at a time (each is a few channels on the held connection). */
  private readonly lock = new KeyedMutex();

  constructor(
    private readonly store: VmStore,
    private readonly connection: (rec: VmRecord) => GuestConnection,
  ) {}

  /** The VM's record when its project is a copy in a guest that answers now. */
  private reachable(id: string): VmRecord | undefined {
    const rec = this.store.read(id);
    if (rec?.share !== 'ssh' || this.starting.has(id)) return undefined;
    const files = this.store.files(id);
    return livePid(files.pid, files.qmp) === undefined ? undefined : rec;
  }

  async scan(id: string, entries: readonly SyncScanEntry[]): Promise<SyncScanChange[] | undefined> {
    const rec = this.reachable(id);
    if (!rec) {
      this.scannedGuest.delete(id);
      return undefined;
    }
    return this.lock.run(id, async () => {
      const now = await guestEntries(this.connection(rec), rec.workspaceFolder, entries);
      this.scannedGuest.add(id);
      return changesOf(entries, now);
    });
  }

  async read(id: string, path: string): Promise<SyncReadResult | undefined> {
    const rec = this.reachable(id);
    if (!rec) return undefined;
    return this.lock.run(id, () => guestRead(this.connection(rec), rec.workspaceFolder, path));
  }

  /**
   * A sync wrote `paths` into the node folder: they go into the guest. When the sync's scan read
   * the guest, they are applied whatever the guest holds (the coordinator kept what it changed);
   * else the push keeps the guest's own changes.
   */
  async received(id: string, paths: readonly string[], owner?: { uid: number; gid: number }): Promise<void> {
    let rec = this.store.read(id);
    if (rec?.share !== 'ssh') return;
    if (owner && (owner.uid !== rec.guestOwner?.uid || owner.gid !== rec.guestOwner?.gid))
      rec = this.store.update(id, { guestOwner: owner }) ?? rec;
    if (!this.reachable(id)) return; // the next boot brings the guest to the node folder
    const forced = this.scannedGuest.has(id) ? new Set(paths) : undefined;
    this.scannedGuest.delete(id);
    await this.push(rec, () => undefined, forced);
  }

  /** Brings the guest's copy to the node folder; says what it kept of the guest's own. */
  push(rec: VmRecord, progress: (m: string) => void, forced?: ReadonlySet<string>): Promise<PushResult> {
    return this.lock.run(rec.id, async () => {
      const r = await pushToGuest({
        conn: this.connection(rec),
        nodeFolder: rec.nodeFolder,
        guestFolder: rec.workspaceFolder,
        baseFile: this.store.files(rec.id).guestCopy,
        ...(rec.guestOwner ? { owner: rec.guestOwner } : {}),
        ...(forced ? { forced } : {}),
      });
      if (r.written || r.deleted) progress(`Project copied into the VM: ${r.written} written, ${r.deleted} deleted`);
      if (r.keptInGuest.length)
        progress(
          `Kept ${r.keptInGuest.length} file(s) changed inside the VM (${r.keptInGuest.slice(0, 3).join(', ')}${r.keptInGuest.length > 3 ? ', …' : ''}); the next up shows them as the workspace's changes`,
        );
      return r;
    });
  }
}
