/**
 * The sync's questions to the node, answered by the agent daemon without fetching the workspace's
 * files: `workspaces/syncScan` says which synced paths the workspace changed since the last sync
 * (the agent hashes only files whose stat moved), `workspaces/syncRead` hands one file over so a
 * person can compare the two versions of a conflict. Both are bounded: a scan names at most
 * SYNC_SCAN_MAX_ENTRIES paths (the coordinator pages through a big project), a read returns at
 * most SYNC_READ_MAX_BYTES. Neither walks the workspace folder, so a million files made inside the
 * workspace cost nothing.
 *
 * A content id names what is at a path: `f:<sha256>` a file, `x:<sha256>` an executable file,
 * `l:<sha256 of the target>` a symlink; `d` a folder, `o` a socket/FIFO/device, `b` blocked (a
 * parent of the path is a file or a symlink, which the agent never follows). Two sides hold the
 * same thing exactly when their ids are equal.
 */
export const SYNC_SCAN_MAX_ENTRIES = 2000;
export const SYNC_READ_MAX_BYTES = 4 * 1024 * 1024;

export type NodeEntryKind = 'file' | 'symlink' | 'folder' | 'special' | 'blocked';

/** What identifies a node file cheaply: while all of it is unchanged, its content id is too. */
export interface NodeStatKey {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  mode: number;
}

export interface SyncScanEntry {
  /** POSIX path relative to the project folder on the node. */
  path: string;
  /** The content id the last sync left at this path; absent when it left nothing. */
  id?: string;
  /** The node's stat of that content when last seen; absent when not known (the file is hashed). */
  stat?: NodeStatKey;
}

export interface SyncScanParams {
  name: string;
  entries: SyncScanEntry[];
}

/**
 * Entry `i` of the request differs from what was expected: `kind` and `id` say what is there
 * now (neither: nothing). A change without `kind` but with `stat` holds the expected content; only
 * its stat moved (the file was touched, or rewritten with the same bytes).
 */
export interface SyncScanChange {
  i: number;
  kind?: NodeEntryKind;
  id?: string;
  stat?: NodeStatKey;
}

export interface SyncScanResult {
  changes: SyncScanChange[];
}

export interface SyncReadParams {
  name: string;
  path: string;
}

export interface SyncReadResult {
  /** Absent when nothing is at the path. */
  kind?: NodeEntryKind;
  /** A file's bytes (base64), or a symlink's target (utf8); absent for anything else. */
  content?: string;
  encoding?: 'base64' | 'utf8';
  /** The file's whole size; larger than SYNC_READ_MAX_BYTES means `content` was not sent. */
  size?: number;
}

/** The content id of a file whose sha256 is `hex`. */
export function fileContentId(hex: string, executable: boolean): string {
  return `${executable ? 'x' : 'f'}:${hex}`;
}

/** The content id of a symlink whose target's sha256 is `hex`. */
export function linkContentId(hex: string): string {
  return `l:${hex}`;
}

export const FOLDER_ID = 'd';
export const SPECIAL_ID = 'o';
export const BLOCKED_ID = 'b';
