/**
 * The file tools' second check, run by sh inside the workspace: `realpath` resolves every symlink
 * of the path there, and only a result inside the (equally resolved) workspace folder is read,
 * listed or written — so `link -> /etc` is refused. Paths arrive as arguments ($1, $2…), never
 * pasted into the script. The scripts run as the workspace user, inside the workspace: they can
 * reach nothing the `exec` tool could not; the folder check keeps the file tools (and
 * `--read-only`) to the project.
 */
import { shScript } from '../ssh/shellQuote';
import { VendettaError } from '../errors';
import { outside } from './folderPaths';

/** Exit codes the scripts use to say why they refused; anything else is the tool's own failure. */
export const REFUSED = {
  NO_FOLDER: 90,
  MISSING: 91,
  OUTSIDE: 92,
  WRONG_KIND: 93,
  NO_REALPATH: 94,
  NO_PARENT: 95,
} as const;

// $1 folder, $2 path: sets $root and $t (the resolved path), or exits with a REFUSED code.
const RESOLVE = (mode: '-e' | '-m') => `command -v realpath >/dev/null 2>&1 || exit ${REFUSED.NO_REALPATH}
root=$(cd -P -- "$1" 2>/dev/null && pwd -P) || exit ${REFUSED.NO_FOLDER}
t=$(realpath ${mode} -- "$2" 2>/dev/null) || exit ${REFUSED.MISSING}
case $t in "$root"|"$root"/*) ;; *) printf '%s' "$t" >&2; exit ${REFUSED.OUTSIDE} ;; esac
`;

/** Prints the file's size on a line, then its first $3 bytes. */
export function readScript(folder: string, path: string, maxBytes: number): string {
  return shScript(
    `${RESOLVE('-e')}[ -f "$t" ] || exit ${REFUSED.WRONG_KIND}
wc -c < "$t" && head -c "$3" -- "$t"`,
    [folder, path, String(maxBytes)],
  );
}

/** Writes stdin to the file (making missing parent folders), then prints its size. */
export function writeScript(folder: string, path: string): string {
  return shScript(
    `${RESOLVE('-m')}[ -d "$t" ] && exit ${REFUSED.WRONG_KIND}
mkdir -p -- "\${t%/*}" 2>/dev/null || exit ${REFUSED.NO_PARENT}
cat > "$t" && wc -c < "$t"`,
    [folder, path],
  );
}

/** The first $4 entries below the folder, $3 levels deep: type, size, path and link target, each ended by NUL (GNU find and head). */
export function listScript(folder: string, path: string, depth: number, maxEntries: number): string {
  return shScript(
    `${RESOLVE('-e')}[ -d "$t" ] || exit ${REFUSED.WRONG_KIND}
cd -- "$t" && find . -mindepth 1 -maxdepth "$3" -printf '%y\\0%s\\0%P\\0%l\\0' | head -z -n "$(( $4 * 4 ))"`,
    [folder, path, String(depth), String(maxEntries)],
  );
}

/** The error for a script's refusal (undefined when the exit code is not one of ours). */
export function refusal(
  code: number | null,
  path: string,
  folder: string,
  what: 'a file' | 'a folder' | 'a file to write',
  stderr: string,
): VendettaError | undefined {
  switch (code) {
    case REFUSED.NO_REALPATH:
      return new VendettaError(
        'INTERNAL',
        'The workspace has no realpath command, which the file tools need to resolve symlinks safely',
        { hint: 'Install coreutils (or busybox) in the workspace image, or use the exec tool.' },
      );
    case REFUSED.NO_FOLDER:
      return new VendettaError('WORKSPACE_STATE', `The workspace folder ${folder} does not exist in the workspace`, {
        hint: 'Run workspace_up for the project again to send its code.',
      });
    case REFUSED.MISSING:
      return new VendettaError('INVALID_PARAMS', `${JSON.stringify(path)} does not exist in the workspace`, {
        hint: 'list_files shows what is there.',
      });
    case REFUSED.OUTSIDE:
      return outside(path, folder, `it resolves through a symlink to ${stderr.trim() || 'a place outside'}`);
    case REFUSED.WRONG_KIND:
      return new VendettaError(
        'INVALID_PARAMS',
        `${JSON.stringify(path)} is not ${what === 'a file to write' ? 'something a file can be written to (it is a folder)' : what}`,
        {
          hint: what === 'a folder' ? 'read_file reads a file.' : 'list_files lists a folder.',
        },
      );
    case REFUSED.NO_PARENT:
      return new VendettaError('INVALID_PARAMS', `Cannot make the folder for ${JSON.stringify(path)}`, {
        hint: 'A part of the path is a file, or the workspace user may not write there.',
      });
    default:
      return undefined;
  }
}

export interface FolderEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  size: number;
  target?: string;
}

const TYPES: Record<string, FolderEntry['type']> = { f: 'file', d: 'dir', l: 'symlink' };

/** Parses listScript's NUL-separated output (a record cut short by the output cap is dropped). */
export function parseListing(out: Buffer): FolderEntry[] {
  const fields = out.toString('utf8').split('\0');
  const entries: FolderEntry[] = [];
  for (let i = 0; i + 4 <= fields.length; i += 4) {
    const [y, size, path, target] = fields.slice(i, i + 4) as [string, string, string, string];
    const e: FolderEntry = { path, type: TYPES[y] ?? 'other', size: Number(size) };
    if (e.type === 'symlink') e.target = target;
    entries.push(e);
  }
  return entries.sort((a, b) => a.path.localeCompare(b.path));
}
