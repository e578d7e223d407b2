/**
 * A dotfiles repository for workspace tests: a bare git repository in the test's folder, which the
 * node (a namespace of this machine, same filesystem) clones by its file:// URL; no network. Its
 * install.sh appends "<folder> <user>" to ~/dotfiles-ran at each run, so a test can count runs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DOTFILES_RAN = 'dotfiles-ran';

/** Makes `<dir>/dotfiles.git` (the first time) and returns its file:// URL. */
export function dotfilesRepo(dir: string): string {
  const url = `file://${join(dir, 'dotfiles.git')}`;
  if (existsSync(join(dir, 'dotfiles.git'))) return url;
  const work = join(dir, 'dotfiles-work');
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'install.sh'), `echo "$(pwd) $(id -un)" >> "$HOME/${DOTFILES_RAN}"\n`);
  const git = (cwd: string, ...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, stdio: 'pipe' });
  git(work, 'init', '-q');
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'dotfiles');
  git(dir, 'clone', '-q', '--bare', work, 'dotfiles.git');
  return url;
}
