/**
 * LXD runs an exec through `lxd forkexec`, with the exec's environment on that process's command
 * line, where every user of the node reads it in `ps`: a workspace's secrets and env must not
 * travel that way. They go into a file pushed into the instance (0600, owned by the exec's user;
 * the push carries its content over LXD's socket), which a shell sources and removes before it
 * becomes the command.
 */
import { randomBytes } from 'node:crypto';

/** Names a POSIX shell can export; any other stays in LXD's environment (it can hold no secret of ours). */
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface EnvSplit {
  /** For LXD's `environment`: HOME, and names a shell cannot export. */
  plain: Record<string, string>;
  /** The file's text, or undefined when nothing needs one. */
  file?: string;
}

const quote = (v: string): string => `'${v.replaceAll("'", `'\\''`)}'`;

export function splitEnv(env: Record<string, string>): EnvSplit {
  const plain: Record<string, string> = {};
  const lines: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (k === 'HOME' || !SHELL_NAME.test(k)) plain[k] = v;
    else lines.push(`export ${k}=${quote(v)}\n`);
  }
  return lines.length ? { plain, file: lines.join('') } : { plain };
}

/** A fresh path for one exec's env file, in the instance's /tmp. */
export function envFilePath(): string {
  return `/tmp/.vendetta-env-${randomBytes(12).toString('hex')}`;
}

/** argv that sources and removes the env file, then becomes `argv` (same pid). */
export function withEnvFile(path: string, argv: readonly string[]): string[] {
  return ['/bin/sh', '-c', '. "$0" && rm -f -- "$0" && exec "$@"', path, ...argv];
}
