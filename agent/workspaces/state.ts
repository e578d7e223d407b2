/**
 * The agent's record of its workspaces: one JSON file, rewritten atomically on every change
 * (temp file, fsync, rename), so a killed agent leaves the old state or the new, never half.
 * The daemon is its only writer; `sync-receive` reads it.
 */
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  NAME_PATTERN,
  PROVIDER_NAMES,
  type ProviderName,
  type WorkspaceHostKey,
  type WorkspaceSpec,
} from '../protocol';
import { errnoCode } from '../errors';
import type { Logger } from '../log/logger';
import type { FeatureContributions } from '../providers/contract';
import { writeFileAtomic, writeFileAtomicSync } from '../../common/fs/atomicWrite';

export interface WorkspaceRecord {
  spec: WorkspaceSpec;
  provider: ProviderName;
  /** Set once the provider made the workspace. */
  providerId?: string;
  /** The cluster member the engine placed it on (an LXD cluster), as last seen. */
  member?: string;
  /**
   * The SSH server's node port on 127.0.0.1: chosen by the agent before the provider makes the
   * workspace, kept across stop/start and agent restarts; the provider's answer wins when it differs.
   */
  sshPort?: number;
  hostKey: WorkspaceHostKey;
  /** The private host key on the node (0600). */
  hostKeyFile: string;
  nodeFolder: string;
  /** A non-root login user's ids inside the workspace: a root agent gives it the files it writes. */
  login?: { uid: number; gid: number };
  createdAt: string;
  /** Service ports published on the node's 127.0.0.1: container port → node port, chosen at create. */
  servicePorts?: Record<string, number>;
  /** Variables the image sets that logins see too (Dev Container Features' containerEnv); the spec's env wins. */
  imageEnv?: Record<string, string>;
  /** What its Dev Container Features add: lifecycle commands (run before the spec's) and VS Code customizations. */
  features?: FeatureContributions;
  /** sshdConfigHash of the sshd config the workspace was given; a different one is put in on the next create. */
  sshdConfig?: string;
  /**
   * `running` once a create or start brought it up, `stopped` after a stop: after a node reboot
   * (the engine and the agent restarted) the agent starts again the ones left running.
   */
  desired?: 'running' | 'stopped';
  /** Why and when it was last stopped by a request or by the agent (idle); cleared when it starts. */
  stopped?: { reason: 'request' | 'idle'; at: string };
  /** `creating` until a create finished; a record left so was cut short and the next create completes it. */
  phase: 'creating' | 'ready';
}

interface StateFileV1 {
  version: 1;
  workspaces: Record<string, WorkspaceRecord>;
}

function isRecord(v: unknown, name: string): v is WorkspaceRecord {
  if (!v || typeof v !== 'object') return false;
  const r = v as Partial<WorkspaceRecord>;
  return (
    typeof r.spec === 'object' &&
    r.spec !== null &&
    r.spec.name === name &&
    NAME_PATTERN.test(name) &&
    PROVIDER_NAMES.includes(r.provider as ProviderName) &&
    typeof r.hostKey?.publicKey === 'string' &&
    typeof r.hostKeyFile === 'string' &&
    typeof r.nodeFolder === 'string' &&
    typeof r.createdAt === 'string' &&
    (r.phase === 'creating' || r.phase === 'ready')
  );
}

/** Reads the state file; a missing file is an empty state. Throws on an unreadable one. */
export function readWorkspaceState(file: string, logger?: Logger): Map<string, WorkspaceRecord> {
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return new Map();
    throw err;
  }
  const parsed = JSON.parse(raw) as Partial<StateFileV1>;
  if (parsed?.version !== 1 || typeof parsed.workspaces !== 'object' || parsed.workspaces === null) {
    throw new Error(`${file} is not a version 1 workspace state file`);
  }
  const out = new Map<string, WorkspaceRecord>();
  for (const [name, rec] of Object.entries(parsed.workspaces)) {
    if (isRecord(rec, name)) out.set(name, rec);
    else logger?.warn('ignoring a malformed workspace record', { file, name });
  }
  return out;
}

export class WorkspaceStore {
  private records: Map<string, WorkspaceRecord>;
  /** Writes begun, and the newest of them on disk: an older background write never replaces a newer one. */
  private made = 0;
  private onDisk = 0;

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {
    try {
      this.records = readWorkspaceState(file, logger);
    } catch (err) {
      // A damaged file must not stop the daemon. Keep it for a person to look at; containers
      // are still found by label and adopted by the next create.
      const aside = `${file}.damaged-${Date.now()}`;
      logger.error('the workspace state file is unreadable; starting empty', { file, movedTo: aside, err });
      try {
        renameSync(file, aside);
      } catch {
        // nothing to move
      }
      this.records = new Map();
    }
  }

  get(name: string): WorkspaceRecord | undefined {
    const r = this.records.get(name);
    return r && structuredClone(r);
  }

  all(): WorkspaceRecord[] {
    return [...this.records.values()]
      .map((r) => structuredClone(r))
      .sort((a, b) => a.spec.name.localeCompare(b.spec.name));
  }

  put(record: WorkspaceRecord): void {
    const next = new Map(this.records);
    next.set(record.spec.name, structuredClone(record));
    this.save(next);
  }

  /**
   * put() whose write goes on in the background: the record is known at once and on disk once the
   * promise resolves (or superseded there by a later write). For a record that a crash may lose
   * (the next create finds the container by its labels), where waiting for the disk would cost: the
   * fsync right after an engine unpacked an image also flushes all it wrote (0.1-0.7 s).
   */
  async putSoon(record: WorkspaceRecord): Promise<void> {
    const next = new Map(this.records);
    next.set(record.spec.name, structuredClone(record));
    const n = ++this.made;
    this.records = next;
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, stateText(next), {
      mode: 0o600,
      // Renamed into place only if no newer write got there first.
      stillWanted: () => {
        if (this.onDisk > n) return false;
        this.onDisk = n;
        return true;
      },
    });
  }

  delete(name: string): void {
    if (!this.records.has(name)) return;
    const next = new Map(this.records);
    next.delete(name);
    this.save(next);
  }

  /** Written first, adopted after: memory never runs ahead of the disk (but for putSoon). */
  private save(next: Map<string, WorkspaceRecord>): void {
    const n = ++this.made;
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    writeFileAtomicSync(this.file, stateText(next), { mode: 0o600 });
    this.onDisk = n;
    this.records = next;
  }
}

function stateText(records: Map<string, WorkspaceRecord>): string {
  const out: StateFileV1 = {
    version: 1,
    workspaces: Object.fromEntries([...records].sort(([a], [b]) => a.localeCompare(b))),
  };
  return JSON.stringify(out, null, 2) + '\n';
}
