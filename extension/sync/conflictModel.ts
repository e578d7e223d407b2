/**
 * Sync conflicts in VS Code, without VS Code: what the notification says, the quick pick's
 * rows, the workspace side of a diff, and the flow that walks a person through the conflicts
 * (pick one → diff → Take Local / Keep Workspace) over a small UI interface, so the whole of it is
 * unit-tested with a fake UI. commands/showSyncConflicts.ts gives it the real one.
 */
import type {
  ReadWorkspaceFileResult,
  ResolveConflictResult,
  SyncConflict,
  WorkspaceUpResult,
} from '../../coordinator/protocol';

export const WORKSPACE_FILE_SCHEME = 'vendetta-workspace';
export const TAKE_LOCAL = 'Take Local';
export const KEEP_WORKSPACE = 'Keep Workspace';
export const SHOW_CONFLICTS = 'Show Conflicts';

/** The conflicts one `up` left, and where they are. */
export interface ConflictSet {
  name: string;
  node: string;
  /** The project folder on this machine. */
  root: string;
  conflicts: SyncConflict[];
  /** How many there were (the list holds at most the coordinator's cap). */
  total: number;
}

export function conflictSetOf(r: WorkspaceUpResult): ConflictSet | undefined {
  if (!r.sync?.conflictCount || r.projectPath === undefined) return undefined;
  return { name: r.name, node: r.node, root: r.projectPath, conflicts: r.sync.conflicts, total: r.sync.conflictCount };
}

export function conflictNotice(set: ConflictSet): string {
  const n = set.total === 1 ? '1 file was' : `${set.total} files were`;
  return `${n} changed both here and in ${set.name} since the last sync; the workspace's version was kept.`;
}

const LOCAL_WORDS: Record<SyncConflict['local'], string> = {
  added: 'added here',
  modified: 'modified here',
  deleted: 'deleted here',
};
const WORKSPACE_WORDS: Record<SyncConflict['workspace'], string> = {
  added: 'added in the workspace',
  modified: 'modified in the workspace',
  deleted: 'deleted in the workspace',
  folder: 'a folder in the workspace',
  blocked: 'a file or link in the workspace stands where its folder goes',
  special: 'a socket, FIFO or device in the workspace',
};

export function describeConflict(c: SyncConflict): string {
  return `${LOCAL_WORDS[c.local]}, ${WORKSPACE_WORDS[c.workspace]}`;
}

export interface ConflictItem {
  label: string;
  description: string;
  conflict: SyncConflict;
}

export function conflictItems(conflicts: readonly SyncConflict[]): ConflictItem[] {
  return conflicts.map((c) => ({ label: c.path, description: describeConflict(c), conflict: c }));
}

/** The workspace's side of a diff: the file's text, or a sentence saying why there is none. */
export function workspaceSideText(path: string, r: ReadWorkspaceFileResult): string {
  if (r.content !== undefined)
    return r.encoding === 'base64' ? Buffer.from(r.content, 'base64').toString('utf8') : `symlink to ${r.content}\n`;
  switch (r.kind) {
    case undefined:
      return `(${path} is deleted in the workspace)\n`;
    case 'folder':
      return `(${path} is a folder in the workspace)\n`;
    case 'blocked':
      return `(a file or link in the workspace stands where a folder of ${path} goes)\n`;
    case 'special':
      return `(${path} is a socket, FIFO or device in the workspace)\n`;
    default:
      return `(${path} is ${r.size ?? 'too many'} bytes in the workspace, more than a diff shows)\n`;
  }
}

/**
 * The query of a read-only document URI in the diff: the workspace's copy of a path, or (with
 * `deletedHere`) the laptop side of a path deleted here.
 */
export function workspaceFileQuery(set: Pick<ConflictSet, 'name' | 'node'>, path: string, deletedHere = false): string {
  return new URLSearchParams({
    name: set.name,
    node: set.node,
    path,
    ...(deletedHere ? { side: 'deleted-here' } : {}),
  }).toString();
}

export function parseWorkspaceFileQuery(
  query: string,
): { name: string; node: string; path: string; deletedHere: boolean } | undefined {
  const q = new URLSearchParams(query);
  const name = q.get('name');
  const node = q.get('node');
  const path = q.get('path');
  return name && node && path ? { name, node, path, deletedHere: q.get('side') === 'deleted-here' } : undefined;
}

/** What the flow needs from VS Code. */
export interface ConflictUi {
  pick(items: ConflictItem[], title: string): Promise<ConflictItem | undefined>;
  /** Opens the diff of the laptop's file against the workspace's. */
  diff(set: ConflictSet, conflict: SyncConflict): Promise<void>;
  /** Asks which version to keep; undefined when dismissed. */
  choose(message: string, options: string[]): Promise<string | undefined>;
  info(message: string): void;
}

export type Resolve = (
  set: ConflictSet,
  conflict: SyncConflict,
  take: 'local' | 'workspace',
) => Promise<ResolveConflictResult>;

/**
 * Pick a conflict, see its diff, take one side; again until none is left or the person stops.
 * Returns the conflicts still open.
 */
export async function walkConflicts(set: ConflictSet, ui: ConflictUi, resolve: Resolve): Promise<SyncConflict[]> {
  let open = [...set.conflicts];
  while (open.length > 0) {
    const item = await ui.pick(
      conflictItems(open),
      `Sync conflicts in ${set.name} (${open.length} left): pick one to compare`,
    );
    if (!item) break;
    const c = item.conflict;
    await ui.diff(set, c);
    const choice = await ui.choose(`${c.path}: ${describeConflict(c)}. Which version should the workspace have?`, [
      TAKE_LOCAL,
      KEEP_WORKSPACE,
    ]);
    if (choice !== TAKE_LOCAL && choice !== KEEP_WORKSPACE) continue;
    await resolve(set, c, choice === TAKE_LOCAL ? 'local' : 'workspace');
    ui.info(
      choice === TAKE_LOCAL
        ? `Sent this folder's version of ${c.path} to ${set.name}.`
        : `Kept ${set.name}'s version of ${c.path}; it is no longer reported.`,
    );
    open = open.filter((o) => o.path !== c.path);
  }
  return open;
}
