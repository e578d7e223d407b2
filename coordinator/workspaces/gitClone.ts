/**
 * `workspace up --git URL[#REF]`: the code comes from a repository cloned inside the workspace
 * (over its own sshd, as its user, so the user's git setup there applies) instead of from this
 * machine. The script is a constant; the folder, URL and ref arrive as "$1" "$2" "$3".
 */
import type { Client } from 'ssh2';
import { quote } from '../daemon/validate';
import { VendettaError } from '../errors';
import { shScript } from '../ssh/shellQuote';
import { execCollect } from './workspaceSsh';

export interface GitSource {
  url: string;
  ref?: string;
}

const REF = /^[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}$/;
const URL_FORMS = /^(?:(?:https?|ssh|git|file):\/\/[^\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+)$/;

export function parseGitSource(v: unknown): GitSource {
  const fail = (why: string) =>
    new VendettaError('INVALID_PARAMS', `Invalid --git ${typeof v === 'string' ? quote(v) : 'value'}: ${why}`, {
      hint: 'Give a repository URL, optionally with #REF: https://example.com/shop.git#main, git@example.com:team/shop.git, file:///srv/git/shop.git#v1.2',
    });
  if (typeof v !== 'string' || v.length === 0 || v.length > 2048) throw fail('expected a URL of up to 2048 characters');
  const hash = v.lastIndexOf('#');
  const url = hash >= 0 ? v.slice(0, hash) : v;
  const ref = hash >= 0 ? v.slice(hash + 1) : undefined;
  if (!URL_FORMS.test(url) || /[\0\n\r]/.test(url))
    throw fail('not a URL git understands (https://, ssh://, git://, file:// or user@host:path)');
  if (ref !== undefined && (!REF.test(ref) || ref.includes('..') || ref.endsWith('/') || ref.endsWith('.lock')))
    throw fail('the part after # is not a branch, tag or commit name');
  return ref === undefined ? { url } : { url, ref };
}

const MARK = 'vendetta-git: ';

/** $1 folder, $2 url, $3 ref (may be empty). Leaves an existing clone alone. */
export const CLONE_SCRIPT = [
  `command -v git >/dev/null 2>&1 || { echo "${MARK}git-missing"; exit 3; }`,
  `if [ -e "$1/.git" ]; then echo "${MARK}already-cloned"; exit 0; fi`,
  `if [ -n "$(ls -A "$1" 2>/dev/null)" ]; then echo "${MARK}not-empty"; exit 4; fi`,
  'git clone --quiet -- "$2" "$1" || exit 5',
  'if [ -n "$3" ]; then git -C "$1" checkout --quiet "$3" || exit 6; fi',
  `echo "${MARK}cloned"`,
].join('\n');

export async function cloneInWorkspace(
  client: Client,
  folder: string,
  src: GitSource,
  workspace: string,
): Promise<{ cloned: boolean }> {
  const r = await execCollect(client, shScript(CLONE_SCRIPT, [folder, src.url, src.ref ?? '']));
  const said = (w: string) => r.stdout.includes(`${MARK}${w}`);
  if (r.code === 0) return { cloned: !said('already-cloned') };
  const tail = r.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 400);
  if (said('git-missing')) {
    throw new VendettaError('WORKSPACE_STATE', `git is not installed in ${workspace}, so it cannot clone ${src.url}`, {
      hint: 'Use an image with git in it (docker.image in .vendetta/config.yaml), or up the local folder without --git.',
    });
  }
  if (said('not-empty')) {
    throw new VendettaError('WORKSPACE_STATE', `${folder} in ${workspace} already holds files that are not a clone`, {
      hint: `Remove the workspace (\`vendetta workspace rm ${workspace}\`) and up it again with --git.`,
    });
  }
  throw new VendettaError(
    'SYNC_FAILED',
    `${r.code === 6 ? `Checking out ${src.ref ?? ''}` : `Cloning ${src.url}`} in ${workspace} failed${tail ? `: ${tail}` : ''}`,
    {
      hint:
        r.code === 6
          ? 'Check that the branch, tag or commit exists in the repository.'
          : 'Check that the URL is reachable from the workspace and that it needs no credentials the workspace lacks.',
      details: { exitCode: r.code },
    },
  );
}
