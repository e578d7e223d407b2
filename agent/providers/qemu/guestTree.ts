/**
 * The project's copy inside a VM without a 9p share, read over the agent's held SSH connection
 * with the guest's own sh, find, sha256sum and head (no Node.js needed in the guest): what is at
 * each asked path (kind, stat, content id: the same answers agent/sync/scan.ts gives for a node
 * folder), and one file's bytes. Nothing in the guest is followed: every folder above a path is
 * looked at too (find -P, lstat), and a path below a link or a file is "blocked", as on the node.
 * Only ids, stats and (for a conflict shown to a person) bytes leave the guest: nothing the
 * guest holds is ever written on the node.
 */
import { createHash } from 'node:crypto';
import { AgentError } from '../../errors';
import {
  BLOCKED_ID,
  fileContentId,
  FOLDER_ID,
  linkContentId,
  SPECIAL_ID,
  SYNC_READ_MAX_BYTES,
  type NodeStatKey,
  type SyncReadResult,
  type SyncScanEntry,
} from '../../protocol';
import { sameStat, type NodeEntry } from '../../sync/scan';
import { relativeSegments } from '../../sync/safePath';
import { shellQuote } from './guestCommand';
import type { GuestConnection } from './guestSsh';

/** find's record per path: path, type letter, permission bits (octal), size, mtime, ctime, inode, link target. */
const FIND_FORMAT = '%p\\0%y\\0%m\\0%s\\0%T@\\0%C@\\0%i\\0%l\\0';
const FIELDS = 8;
const TYPE_BITS: Record<string, number> = {
  f: 0o100000,
  d: 0o040000,
  l: 0o120000,
  p: 0o010000,
  s: 0o140000,
  c: 0o020000,
  b: 0o060000,
};

/** `$1` the project folder, `$2` the format; the paths (`./…`, NUL-separated) on stdin. A missing folder holds nothing. */
const FIND_SCRIPT = `command -v find >/dev/null || { echo 'the guest has no find (GNU findutils)' >&2; exit 127; }
cd -- "$1" 2>/dev/null || exit 0
xargs -0r sh -c 'find -P "$@" -maxdepth 0 -printf "$0" 2>/dev/null; exit 0' "$2"`;

/** `$1` the project folder; the files (`./…`, NUL-separated) on stdin; one `<sha256>  <path>` NUL-ended record each. */
const HASH_SCRIPT = `command -v sha256sum >/dev/null || { echo 'the guest has no sha256sum (GNU coreutils)' >&2; exit 127; }
cd -- "$1" || exit 3
xargs -0r sha256sum -z -- 2>/dev/null; exit 0`;

/** `$1` the project folder, `$2` the file, `$3` how many bytes at most. */
const READ_SCRIPT = `cd -- "$1" && exec head -c "$3" -- "$2"`;

export interface GuestStat {
  type: string;
  stat: NodeStatKey;
  link: string;
}

export interface Collected {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

/** A provider script run in the guest (`sh -c`, its words quoted), stdout collected whole as bytes. */
export async function runScript(
  conn: GuestConnection,
  script: string,
  args: readonly string[],
  stdin?: Buffer | AsyncIterable<Buffer>,
  timeoutMs = 300_000,
): Promise<Collected> {
  const chunks: Buffer[] = [];
  const command = ['sh', '-c', shellQuote(script), 'vendetta-sync', ...args.map(shellQuote)].join(' ');
  const r = await conn.run(command, {
    ...(stdin ? { stdin } : {}),
    timeoutMs,
    onStdout: (c) => chunks.push(Buffer.from(c)),
  });
  return { exitCode: r.exitCode, stdout: Buffer.concat(chunks), stderr: r.stderr };
}

export function guestFailed(what: string, r: Collected): AgentError {
  return new AgentError('PROVIDER_ERROR', `${what} in the VM failed (exit ${r.exitCode})`, {
    provider: 'qemu',
    hint: `The guest needs sh, find and GNU coreutils (sha256sum, head). It said: ${r.stderr.trim().slice(0, 300) || 'nothing'}`,
  });
}

/** `./a/b` for `a/b`: never read as an option or a find expression. */
export const dotted = (path: string): string => `./${path}`;
const nulList = (paths: readonly string[]): Buffer => Buffer.from(paths.map((p) => `${p}\0`).join(''));

/** find's records by path (without `./`). */
export function parseFind(out: Buffer): Map<string, GuestStat> {
  const f = out.toString('utf8').split('\0');
  const found = new Map<string, GuestStat>();
  for (let i = 0; i + FIELDS <= f.length; i += FIELDS) {
    const [p, type, perm, size, mtime, ctime, ino, link] = f.slice(i, i + FIELDS) as [string, ...string[]];
    found.set(p.replace(/^\.\//, ''), {
      type: type!,
      link: link!,
      stat: {
        size: Number(size),
        mtimeMs: Number(mtime) * 1000,
        ctimeMs: Number(ctime) * 1000,
        ino: Number(ino),
        mode: (TYPE_BITS[type!] ?? 0) | parseInt(perm!, 8),
      },
    });
  }
  return found;
}

/** sha256sum -z's records by path (without `./`); a leading `\` marks an escaped name. */
export function parseHashes(out: Buffer): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const rec of out.toString('utf8').split('\0')) {
    const m = /^\\?([0-9a-f]{64}) [ *](.*)$/s.exec(rec);
    if (m) hashes.set(m[2]!.replace(/^\.\//, ''), m[1]!);
  }
  return hashes;
}

/** Each path with every folder above it, as find start points. */
function withParents(paths: readonly string[]): string[] {
  const all = new Set<string>();
  for (const p of paths) {
    const segs = relativeSegments(p);
    for (let i = 1; i <= segs.length; i++) all.add(segs.slice(0, i).join('/'));
  }
  return [...all];
}

/** What the lookup of `path` found among find's records: a parent missing, a parent not a folder, or the entry. */
function lookUp(found: ReadonlyMap<string, GuestStat>, path: string): 'none' | 'blocked' | GuestStat {
  const segs = relativeSegments(path);
  for (let i = 1; i < segs.length; i++) {
    const parent = found.get(segs.slice(0, i).join('/'));
    if (!parent) return 'none';
    if (parent.type !== 'd') return 'blocked';
  }
  return found.get(segs.join('/')) ?? 'none';
}

/** lstat of each path and the folders above it, in one exec. */
export async function findEntries(
  conn: GuestConnection,
  folder: string,
  paths: readonly string[],
): Promise<Map<string, GuestStat>> {
  if (paths.length === 0) return new Map();
  const r = await runScript(conn, FIND_SCRIPT, [folder, FIND_FORMAT], nulList(withParents(paths).map(dotted)));
  if (r.exitCode !== 0) throw guestFailed('Looking at the project folder', r);
  return parseFind(r.stdout);
}

/**
 * What the guest holds at each entry's path, as agent/sync/scan.ts says it for a node folder:
 * a file is hashed only when its stat is not the one the entry names.
 */
export async function guestEntries(
  conn: GuestConnection,
  folder: string,
  entries: readonly SyncScanEntry[],
): Promise<NodeEntry[]> {
  const found = await findEntries(
    conn,
    folder,
    entries.map((e) => e.path),
  );
  const at = entries.map((e) => lookUp(found, e.path));
  const toHash = entries.filter((e, i) => {
    const a = at[i]!;
    return typeof a === 'object' && a.type === 'f' && !(e.id && sameStat(e.stat, a.stat));
  });
  let hashes = new Map<string, string>();
  if (toHash.length > 0) {
    const r = await runScript(conn, HASH_SCRIPT, [folder], nulList(toHash.map((e) => dotted(e.path))));
    if (r.exitCode !== 0) throw guestFailed('Hashing the project files', r);
    hashes = parseHashes(r.stdout);
  }
  return entries.map((e, i): NodeEntry => {
    const a = at[i]!;
    if (a === 'none') return {};
    if (a === 'blocked') return { kind: 'blocked', id: BLOCKED_ID };
    const stat = a.stat;
    if (a.type === 'd') return { kind: 'folder', id: FOLDER_ID, stat };
    if (a.type === 'l')
      return { kind: 'symlink', id: linkContentId(createHash('sha256').update(a.link).digest('hex')), stat };
    if (a.type !== 'f') return { kind: 'special', id: SPECIAL_ID, stat };
    if (e.id && sameStat(e.stat, stat)) return { kind: 'file', id: e.id, stat };
    const hex = hashes.get(relativeSegments(e.path).join('/'));
    // Gone (or no longer a file) between find and sha256sum: the workspace is busy with it.
    if (!hex) return { kind: 'special', id: SPECIAL_ID, stat };
    return { kind: 'file', id: fileContentId(hex, (stat.mode & 0o111) !== 0), stat };
  });
}

/** One file's bytes (or a link's target) in the guest, for a person comparing the two sides of a conflict. */
export async function guestRead(conn: GuestConnection, folder: string, path: string): Promise<SyncReadResult> {
  const a = lookUp(await findEntries(conn, folder, [path]), path);
  if (a === 'none') return {};
  if (a === 'blocked') return { kind: 'blocked' };
  if (a.type === 'l') return { kind: 'symlink', content: a.link, encoding: 'utf8' };
  if (a.type === 'd') return { kind: 'folder' };
  if (a.type !== 'f') return { kind: 'special' };
  if (a.stat.size > SYNC_READ_MAX_BYTES) return { kind: 'file', size: a.stat.size };
  const rel = dotted(relativeSegments(path).join('/'));
  const r = await runScript(conn, READ_SCRIPT, [folder, rel, String(SYNC_READ_MAX_BYTES + 1)]);
  if (r.exitCode !== 0) throw guestFailed(`Reading ${path}`, r);
  // Grown past the cap while read: the size says so and nothing partial is shown.
  if (r.stdout.length > SYNC_READ_MAX_BYTES) return { kind: 'file', size: r.stdout.length };
  return { kind: 'file', content: r.stdout.toString('base64'), encoding: 'base64', size: r.stdout.length };
}
