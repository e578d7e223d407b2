/**
 * Which files of a project are sent to its workspace: in a git repository, what git tracks plus
 * untracked files .gitignore does not exclude (`git ls-files`, argv only); elsewhere every file
 * but `.git` folders. Symlinks are sent as links (never followed); folders, sockets and the
 * like are not sent.
 */
import { execFile } from 'node:child_process';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { VendettaError } from '../errors';

export interface LocalFile {
  /** POSIX path relative to the project root. */
  path: string;
  abs: string;
  kind: 'file' | 'symlink';
  size: number;
  mtimeMs: number;
  /** Nanoseconds since the epoch (pax headers carry the fraction). */
  mtimeNs: bigint;
  mode: number;
  linkTarget?: string;
}

export interface ProjectFiles {
  files: LocalFile[];
  source: 'git' | 'walk';
}

const GIT_MAX_OUTPUT = 512 * 1024 * 1024;

/** NUL-separated paths from `git ls-files -z`, or undefined when the folder is not in a repository. */
export function gitListFiles(root: string): Promise<string[] | undefined> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['ls-files', '--cached', '--others', '--exclude-standard', '-z'],
      { cwd: root, maxBuffer: GIT_MAX_OUTPUT, encoding: 'buffer', env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } },
      (err, stdout, stderr) => {
        if (!err) {
          resolve(splitNul(stdout));
          return;
        }
        const text = Buffer.isBuffer(stderr) ? stderr.toString('utf8') : String(stderr ?? '');
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || /not a git repository/i.test(text)) {
          resolve(undefined); // no git here, or no repository: every file goes
          return;
        }
        reject(
          new VendettaError(
            'SYNC_FAILED',
            `git could not list the project's files: ${text.trim().split('\n').pop() ?? err.message}`,
            {
              hint: 'Run `git status` in the project to see what git objects to (e.g. `git config --global --add safe.directory <path>` for a folder owned by another user).',
              cause: err,
            },
          ),
        );
      },
    );
  });
}

function splitNul(buf: Buffer): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0) {
      if (i > start) out.push(buf.subarray(start, i).toString('utf8'));
      start = i + 1;
    }
  }
  if (start < buf.length) out.push(buf.subarray(start).toString('utf8'));
  return out;
}

/** Every path under root except `.git` folders, as POSIX relative paths; links are not followed. */
export async function walkFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    const entries = await readdir(rel ? join(root, rel) : root, { withFileTypes: true });
    for (const e of entries) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name !== '.git') await visit(p);
      } else out.push(p);
    }
  };
  await visit('');
  return out;
}

/** lstat of many paths, a few dozen at a time; gone or special files are dropped. */
export async function statFiles(root: string, paths: readonly string[]): Promise<LocalFile[]> {
  const unique = [...new Set(paths)];
  const out: Array<LocalFile | undefined> = new Array(unique.length);
  let next = 0;
  const worker = async () => {
    while (next < unique.length) {
      const i = next++;
      const path = unique[i]!;
      const abs = join(root, ...path.split('/'));
      try {
        const st = await lstat(abs, { bigint: true });
        const seen = {
          path,
          abs,
          size: Number(st.size),
          mtimeMs: Number(st.mtimeNs / 1000n) / 1000,
          mtimeNs: st.mtimeNs,
        };
        if (st.isFile()) out[i] = { ...seen, kind: 'file', mode: Number(st.mode & 0o7777n) };
        else if (st.isSymbolicLink())
          out[i] = { ...seen, kind: 'symlink', mode: 0o777, linkTarget: await readlink(abs) };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // Listed by git but deleted (or replaced by a folder) since: nothing to send.
        if (code !== 'ENOENT' && code !== 'ENOTDIR')
          throw new VendettaError('SYNC_FAILED', `Cannot read ${abs}: ${(err as Error).message}`, {
            hint: "Check the file's permissions.",
            cause: err,
          });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(32, unique.length) }, worker));
  return out.filter((f): f is LocalFile => f !== undefined);
}

/** A path a client names inside a synced project: relative, POSIX, no `..`, no empty segments. */
export function syncedPath(v: unknown, method: string): string {
  const ok =
    typeof v === 'string' &&
    v.length > 0 &&
    v.length <= 4096 &&
    !v.includes('\0') &&
    !v.startsWith('/') &&
    v.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
  if (!ok) {
    throw new VendettaError(
      'INVALID_PARAMS',
      `${method}: invalid path ${JSON.stringify(typeof v === 'string' ? v.slice(0, 200) : v)}`,
      {
        hint: 'Name the file as the sync reported it: relative to the project folder, with /.',
      },
    );
  }
  return v;
}

export async function listProjectFiles(root: string): Promise<ProjectFiles> {
  const fromGit = await gitListFiles(root);
  const paths = fromGit ?? (await walkFiles(root));
  // git prints paths with '/', the walk builds them so; never trust a separator beyond that.
  const clean = paths.filter(
    (p) => p.length > 0 && !p.startsWith('/') && !p.split('/').includes('..') && !p.includes(sep === '/' ? '\0' : sep),
  );
  const files = await statFiles(root, clean);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, source: fromGit ? 'git' : 'walk' };
}
