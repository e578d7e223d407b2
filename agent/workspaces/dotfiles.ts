/**
 * Your dotfiles in every workspace (VS Code's `vendetta.dotfiles.*`, `up --dotfiles`, spelt as Dev
 * Containers and DevPod spell them): once per workspace, the repository is cloned on the node, the
 * clone is put into the login user's home (`~/dotfiles` by default) and its install script runs
 * there as that user; without one, its dotfiles are linked into ~. A marker in ~ says it is done,
 * so a second `up` or a start leaves them alone, and a workspace made again gets them again.
 *
 * Cloned on the node rather than inside the workspace: many images have no git (ours has none),
 * and the node's git, with the agent user's credentials, works the same for every provider; the
 * workspace only needs sh and tar. Dotfiles are the user's own extras: whatever goes wrong is said
 * in `up`'s output and the log, never a failure of `up`, and the next `up` tries again.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/logger';
import type { DotfilesSpec } from '../protocol';
import type { WorkspaceProvider } from '../providers/contract';
import { tarDirectory } from '../tar/directory';

/** Dev Containers' search order for the install script. */
export const INSTALL_SCRIPTS = [
  'install.sh',
  'install',
  'bootstrap.sh',
  'bootstrap',
  'script/bootstrap',
  'setup.sh',
  'setup',
  'script/setup',
] as const;
export const DOTFILES_MARKER = '.vendetta/dotfiles-installed';
export const DEFAULT_TARGET = '~/dotfiles';

const MARK = 'vendetta-dotfiles: ';

/** Prints `installed` when the marker is there, else the login user's home. */
export const PROBE_SCRIPT = `if [ -e "$HOME/${DOTFILES_MARKER}" ]; then echo installed; else printf '%s\\n' "$HOME"; fi`;

/** $1 the folder: the clone arrives on stdin as tar, owned by whoever runs this. */
export const EXTRACT_SCRIPT = 'mkdir -p -- "$1" && cd -- "$1" && tar -x -o -f -';

/**
 * $1 the folder, $2 the install command (empty: search), $3 what the marker records. Runs the
 * script found, or links the folder's dotfiles (but .git) into ~; the marker only on success.
 */
export const INSTALL_SCRIPT = [
  'cd -- "$1" || exit 90',
  'cmd="$2"',
  `if [ -z "$cmd" ]; then for f in ${INSTALL_SCRIPTS.join(' ')}; do if [ -f "$f" ]; then cmd="./$f"; break; fi; done; fi`,
  'if [ -n "$cmd" ]; then',
  `  [ -f "$cmd" ] || { echo "${MARK}missing"; exit 91; }`,
  '  chmod +x "$cmd" 2>/dev/null',
  `  echo "${MARK}ran $cmd"`,
  '  "$cmd" </dev/null || exit $?',
  'else',
  '  n=0',
  '  for f in .[!.]* ..?*; do',
  '    { [ -e "$f" ] || [ -L "$f" ]; } || continue',
  '    [ "$f" = .git ] && continue',
  '    ln -sfn "$PWD/$f" "$HOME/$f" && n=$((n + 1))',
  '  done',
  `  echo "${MARK}linked $n"`,
  'fi',
  `mkdir -p "$HOME/.vendetta" && printf '%s\\n' "$3" > "$HOME/${DOTFILES_MARKER}"`,
].join('\n');

/** `~` and `~/x` as the login user's home says; an absolute path as it is. */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return `${home.replace(/\/+$/, '')}/${path.slice(2)}`;
  return path;
}

/** The install command as the script takes it: relative to the clone unless `~/…` or absolute. */
export function installCommandArg(cmd: string | undefined, home: string): string {
  if (cmd === undefined) return '';
  const expanded = expandHome(cmd, home);
  return expanded.startsWith('/') ? expanded : `./${expanded.replace(/^\.\//, '')}`;
}

/** The last lines of what a command said, for a one-line warning. */
function tail(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith(MARK))
    .slice(-3)
    .join(' | ')
    .slice(0, 300);
}

export interface CloneOutcome {
  ok: boolean;
  /** git itself is not on the node. */
  noGit?: boolean;
  said?: string;
}

/** `git clone` on the node, no prompt for credentials (nobody could answer it). */
export function cloneOnNode(git: string, repository: string, dir: string, timeoutMs: number): Promise<CloneOutcome> {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0' };
  env.GIT_SSH_COMMAND ??= 'ssh -o BatchMode=yes';
  return new Promise((resolve) => {
    execFile(git, ['clone', '--quiet', '--', repository, dir], { env, timeout: timeoutMs }, (err, _out, stderr) => {
      if (!err) resolve({ ok: true });
      else if ((err as NodeJS.ErrnoException).code === 'ENOENT') resolve({ ok: false, noGit: true });
      else resolve({ ok: false, said: tail(String(stderr)) || err.message.slice(0, 300) });
    });
  });
}

export interface DotfilesRun {
  workspace: string;
  providerId: string;
  user: string;
  /** The agent's folder of the workspace (the clone is made in it and removed). */
  workspaceDir: string;
  dotfiles: DotfilesSpec;
  say: (message: string) => void;
  /** The git on the node (tests give one that is missing). */
  git?: string;
  installTimeoutMs?: number;
  /** Cancels the calls into the workspace (the create was cancelled). */
  signal?: AbortSignal;
}

/** Not installed: why, as said to the user. */
export type DotfilesResult = 'installed' | 'already' | { notInstalled: string };

/** Never throws: a problem is said (`say`) and logged, and the next `up` tries again. */
export async function installDotfiles(
  provider: WorkspaceProvider,
  r: DotfilesRun,
  logger: Logger,
): Promise<DotfilesResult> {
  const { repository } = r.dotfiles;
  const warn = (why: string, fields: Record<string, unknown> = {}): DotfilesResult => {
    r.say(`Dotfiles not installed: ${why}`);
    logger.warn('dotfiles not installed', { workspace: r.workspace, repository, why, ...fields });
    return { notInstalled: why };
  };
  const asUser = { user: r.user, signal: r.signal, timeoutMs: 15_000 };
  try {
    const probe = await provider.exec(r.providerId, ['sh', '-c', PROBE_SCRIPT], asUser);
    const home = probe.stdout.trim();
    if (probe.exitCode !== 0 || !home) return warn(`the workspace has no sh or no home for ${r.user}`);
    if (home === 'installed') return 'already';
    if (!home.startsWith('/')) return warn(`the home of ${r.user} is not a folder (${home.slice(0, 100)})`);
    const target = expandHome(r.dotfiles.targetPath ?? DEFAULT_TARGET, home);
    r.say(`Cloning the dotfiles ${repository} on the node`);
    const tmp = mkdtempSync(join(r.workspaceDir, '.dotfiles-'));
    try {
      const cloned = await cloneOnNode(r.git ?? 'git', repository, tmp, 120_000);
      if (cloned.noGit)
        return warn('git is not installed on the node, which clones them; install git there, then `up` again');
      if (!cloned.ok) return warn(`cloning ${repository} on the node failed: ${cloned.said ?? 'no reason given'}`);
      const put = await provider.exec(r.providerId, ['sh', '-c', EXTRACT_SCRIPT, 'sh', target], {
        ...asUser,
        stdin: tarDirectory(tmp),
        timeoutMs: 120_000,
      });
      if (put.exitCode !== 0)
        return warn(`could not put them into ${target} (needs tar in the workspace): ${tail(put.stderr)}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    r.say(`Installing the dotfiles in ${target}`);
    const run = await provider.exec(
      r.providerId,
      ['sh', '-c', INSTALL_SCRIPT, 'sh', target, installCommandArg(r.dotfiles.installCommand, home), repository],
      { ...asUser, timeoutMs: r.installTimeoutMs ?? 600_000 },
    );
    const said = run.stdout.match(new RegExp(`^${MARK}(.*)$`, 'm'))?.[1] ?? '';
    if (run.exitCode === 91) return warn(`${r.dotfiles.installCommand ?? 'the install command'} is not in ${target}`);
    if (run.exitCode !== 0)
      return warn(
        `${said.replace(/^ran /, '') || 'the install'} failed (exit ${run.exitCode})${tail(run.stderr + '\n' + run.stdout) ? `: ${tail(run.stderr + '\n' + run.stdout)}` : ''}; the next \`up\` runs it again`,
        { exitCode: run.exitCode },
      );
    r.say(
      said.startsWith('ran ')
        ? `Dotfiles installed (${said})`
        : `Dotfiles linked into ~ (${said.replace(/^linked /, '')})`,
    );
    logger.info('dotfiles installed', { workspace: r.workspace, repository, how: said });
    return 'installed';
  } catch (err) {
    return warn(`${err instanceof Error ? err.message.slice(0, 300) : String(err)}`, { err });
  }
}
