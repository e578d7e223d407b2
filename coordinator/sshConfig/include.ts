/**
 * `vendetta ssh-config install|uninstall`: one `Include <VENDETTA_HOME>/ssh_config` line at the
 * top of ~/.ssh/config, so plain `ssh <ws>.<node>.vendetta` (and Remote-SSH) find the workspaces.
 * It must come before any Host/Match line, or it would apply only inside that block. Written
 * atomically, keeping the file's mode (and writing through a symlinked config to its target).
 */
import { chmodSync, mkdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { VendettaError } from '../errors';
import { writeFileAtomicSync } from '../../common/fs/atomicWrite';
import { configPath } from './blocks';

export interface IncludeResult {
  /** The file that was (or would have been) changed. */
  file: string;
  line: string;
  changed: boolean;
}

export function includeLine(sshConfigPath: string): string {
  return `Include ${configPath(sshConfigPath, 'The ssh_config path')}`;
}

/** ~/.ssh/config of the current user ($HOME decides, which tests rely on). */
export function userSshConfig(home = homedir()): string {
  return join(home, '.ssh', 'config');
}

function isOurLine(line: string, wanted: string): boolean {
  return line.trim().replace(/\s+/g, ' ') === wanted;
}

interface Target {
  file: string;
  text: string;
  mode: number;
}

function readTarget(configFile: string): Target {
  let file = configFile;
  try {
    file = realpathSync(configFile);
  } catch {
    // absent: created below
  }
  try {
    const text = readFileSync(file, 'utf8');
    return { file, text, mode: statSync(file).mode & 0o7777 };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { file, text: '', mode: 0o600 };
    throw new VendettaError('INTERNAL', `Cannot read ${file}: ${(err as Error).message}`, {
      hint: "Check the file's permissions.",
      cause: err,
    });
  }
}

function write(t: Target, text: string): void {
  // The temp file must be born with the old mode, not with what the umask leaves of it.
  const umask = process.umask(0);
  try {
    writeFileAtomicSync(t.file, text, { mode: t.mode, createDir: true });
  } finally {
    process.umask(umask);
  }
  if ((statSync(t.file).mode & 0o7777) !== t.mode) chmodSync(t.file, t.mode);
}

export function installInclude(sshConfigPath: string, configFile = userSshConfig()): IncludeResult {
  const line = includeLine(sshConfigPath);
  mkdirSync(join(configFile, '..'), { recursive: true, mode: 0o700 });
  const t = readTarget(configFile);
  const lines = t.text === '' ? [] : t.text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  // Already first (ignoring leading comments and blank lines)? Then nothing to do.
  const firstReal = lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#'));
  const ours = lines.filter((l) => isOurLine(l, line)).length;
  if (ours === 1 && firstReal >= 0 && isOurLine(lines[firstReal]!, line)) return { file: t.file, line, changed: false };
  const rest = lines.filter((l) => !isOurLine(l, line));
  write(t, [line, ...rest].join('\n') + '\n');
  return { file: t.file, line, changed: true };
}

export function uninstallInclude(sshConfigPath: string, configFile = userSshConfig()): IncludeResult {
  const line = includeLine(sshConfigPath);
  const t = readTarget(configFile);
  const lines = t.text.split('\n');
  const rest = lines.filter((l) => !isOurLine(l, line));
  if (rest.length === lines.length) return { file: t.file, line, changed: false };
  write(t, rest.join('\n'));
  return { file: t.file, line, changed: true };
}
