/**
 * A dotfiles repository for workspace tests: a bare git repository in the test's folder, which the
 * node (a namespace of this machine, same filesystem) clones by its file:// URL; no network. Its
 * install.sh appends "<folder> <user>" to ~/dotfiles-ran at each run, so a test can count runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DOTFILES_RAN = 'dotfiles-ran';

/** An install.sh that fails with exit 7 and says why on stderr (what `up` must warn about). */
export const FAILING_INSTALL = 'echo "broken on purpose" >&2; exit 7\n';

/**
 * Makes `<dir>/<name>.git` (the first time) and returns its file:// URL; `install` is its
 * install.sh (default: the counting one above).
 */
export function dotfilesRepo(
  dir: string,
  name = 'dotfiles',
  install = `echo "$(pwd) $(id -un)" >> "$HOME/${DOTFILES_RAN}"\n`,
): string {
  const url = `file://${join(dir, `${name}.git`)}`;
  if (existsSync(join(dir, `${name}.git`))) return url;
  const work = join(dir, `${name}-work`);
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'install.sh'), install);
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, stdio: 'pipe' });
  git(work, 'init', '-q');
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'dotfiles');
  git(dir, 'clone', '-q', '--bare', work, `${name}.git`);
  return url;
}
