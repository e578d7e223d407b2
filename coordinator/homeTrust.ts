/**
 * A VENDETTA_HOME that someone else controls is refused. What the coordinator reads from it decides
 * what runs (ssh_config's ProxyCommand, the agent it installs), which hosts are trusted
 * (known_hosts), which keys sign in (keys/) and where (nodes.yaml): each must be the user's own and
 * writable by nobody else. Checked with lstat, so a link planted in place of the home or of one of
 * its files is refused too, never followed. A file not there yet is fine: the coordinator makes it.
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { VendettaError } from './errors';
import { homePaths, type HomePaths } from './home';

type Kind = 'directory' | 'file';

interface Problem {
  why: string;
  hint: string;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new VendettaError('HOME_UNTRUSTED', `Cannot check ${path}: ${(err as Error).message}`, {
      hint: 'Check that the folder is yours and can be read.',
      cause: err,
    });
  }
}

/** What is wrong with `st` for `uid`, or undefined when the path is the user's alone. */
export function trustProblem(path: string, st: Stats, kind: Kind, uid: number, home: string): Problem | undefined {
  if (st.isSymbolicLink()) {
    return path === home
      ? {
          why: 'is a symbolic link',
          hint: 'Set VENDETTA_HOME to the real folder (`realpath` prints it) instead of a link to it.',
        }
      : {
          why: 'is a symbolic link',
          hint: `Replace the link with the file itself, or remove it (vendetta makes what it needs): \`rm ${path}\`.`,
        };
  }
  if (kind === 'directory' ? !st.isDirectory() : !st.isFile())
    return { why: `is not a ${kind}`, hint: `Move it away; vendetta makes the ${kind} it needs.` };
  if (st.uid !== uid)
    return {
      why: `is owned by uid ${st.uid}, not by you (uid ${uid})`,
      hint: `Only its owner should control it: \`chown ${uid} ${path}\` (as root), or use a home of your own.`,
    };
  if (st.mode & 0o022) {
    const fix = kind === 'directory' ? `chmod 700 ${path}` : `chmod go-w ${path}`;
    return {
      why: `can be written by ${st.mode & 0o020 ? 'its group' : 'other users'} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`,
      hint: `Check nobody changed it, then: \`${fix}\`.`,
    };
  }
  return undefined;
}

/** The paths checked: the home, the files the coordinator reads, and the folders holding others. */
function checkedPaths(paths: HomePaths): Array<[string, Kind]> {
  return [
    [paths.root, 'directory'],
    [paths.nodesFile, 'file'],
    [paths.knownHosts, 'file'],
    [paths.sshConfig, 'file'],
    [paths.keysDir, 'directory'],
    [paths.stateDir, 'directory'],
    [paths.localAgentHome, 'directory'],
  ];
}

/**
 * Throws HOME_UNTRUSTED naming the first path that is not the user's alone. Every key in keys/ and
 * every entry of state/ is checked as well. Skipped where there are no Unix owners (Windows).
 */
export function assertTrustedHome(paths: HomePaths, uid: number | undefined = process.getuid?.()): void {
  if (uid === undefined) return;
  const check = (path: string, kind: Kind): boolean => {
    const st = lstatOrUndefined(path);
    if (!st) return false;
    const problem = trustProblem(path, st, kind, uid, paths.root);
    if (problem) {
      throw new VendettaError('HOME_UNTRUSTED', `Refusing to use ${path}: it ${problem.why}`, {
        hint: problem.hint,
        details: { path },
      });
    }
    return true;
  };
  for (const [path, kind] of checkedPaths(paths)) {
    if (!check(path, kind)) continue;
    if (path === paths.keysDir) for (const name of readdirSync(path)) check(join(path, name), 'file');
    if (path === paths.stateDir) {
      for (const e of readdirSync(path, { withFileTypes: true }))
        check(join(path, e.name), e.isDirectory() ? 'directory' : 'file');
    }
  }
}

/** homePaths(), once the home passed assertTrustedHome. */
export function trustedHomePaths(root?: string): HomePaths {
  const paths = homePaths(root);
  assertTrustedHome(paths);
  return paths;
}
