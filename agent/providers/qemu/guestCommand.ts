/**
 * How an exec becomes the one command string SSH carries: every word single-quoted (an SSH exec
 * request is always run by the login shell), the working folder entered first, and another user
 * reached with util-linux's `runuser` from the root login. The environment (it may hold secrets)
 * never goes into the command, which `ps` in the guest shows: it arrives first on stdin, one
 * `NAME=value` line each (backslash and line break escaped), ended by an empty line, and the
 * login shell's builtins read and export it before the command gets the rest of stdin. Only a
 * tty exec (whose stdin a terminal echoes) still sets it with `env` in the command.
 * No word of the argv is ever read by a shell as anything but itself.
 */
import { posix } from 'node:path';
import { tarBuffer, type TarInput } from '../../../common/tar/encode';

/** POSIX single quotes; a `'` inside becomes `'\''`. A one-liner, so no library for it. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface GuestCommandOptions {
  user?: string;
  env?: Record<string, string>;
  workingDir?: string;
}

export function guestCommand(argv: string[], opts: GuestCommandOptions & { tty?: boolean } = {}): string {
  if (argv.length === 0) throw new Error('exec: empty argv');
  const env = Object.entries(opts.env ?? {});
  for (const [k] of env)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`not an environment variable name: ${k}`);
  const inCommand = opts.tty === true && env.length > 0;
  const words = [
    'exec',
    ...(opts.user && opts.user !== 'root' ? ['runuser', '-u', opts.user, '--'] : []),
    ...(inCommand ? ['env', ...env.map(([k, v]) => `${k}=${v}`)] : []),
    ...argv,
  ];
  const run = words.map((w, i) => (i === 0 ? w : shellQuote(w))).join(' ');
  const cd = opts.workingDir ? `cd ${shellQuote(opts.workingDir)} && ${run}` : run;
  return env.length && !inCommand ? `${READ_ENV} ${cd}` : cd;
}

/** Builtins only (read, printf, export): no process of its own, so no argv holding a value. */
const READ_ENV =
  'while IFS= read -r v_ && [ -n "$v_" ]; do x_=$(printf "%bx" "${v_#*=}"); export "${v_%%=*}=${x_%x}"; done; unset v_ x_;';

/** The stdin lines READ_ENV reads: `NAME=value` with `\` and line breaks escaped, then an empty line. */
export function envPreamble(env: Readonly<Record<string, string>>): Buffer {
  const lines = Object.entries(env).map(([k, v]) => `${k}=${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n`);
  return Buffer.from(`${lines.join('')}\n`);
}

export interface GuestFileMeta {
  path: string;
  type: 'file' | 'directory';
  mode: number;
  uid?: number;
  gid?: number;
}

/**
 * Several files in one command: a tar stream on stdin (their modes and owners in its headers),
 * each file extracted beside its target and renamed over it. Two processes and one per file,
 * instead of five per file: each process start is slow in an emulated guest.
 */
export function putFilesInput(files: ReadonlyArray<GuestFileMeta & { content: Buffer }>): {
  command: string;
  stdin: Buffer;
} {
  const whole = Math.floor(Date.now() / 1000) * 1000;
  const entries: TarInput[] = files.map((f) => {
    if (!f.path.startsWith('/') || posix.normalize(f.path) !== f.path)
      throw new Error(`putFilesInput: ${f.path} is not an absolute, normal path`);
    const path = f.path.slice(1) + (f.type === 'file' ? NEW_SUFFIX : '');
    return {
      path,
      type: f.type,
      mode: f.mode & 0o7777,
      uid: f.uid ?? 0,
      gid: f.gid ?? 0,
      mtimeMs: whole,
      data: f.content,
    };
  });
  const renames = files
    .filter((f) => f.type === 'file')
    .map((f) => `mv -f ${shellQuote(f.path + NEW_SUFFIX)} ${shellQuote(f.path)}`);
  return { command: ['tar -x -p -C / -f -', ...renames].join(' && '), stdin: tarBuffer(entries) };
}

const NEW_SUFFIX = '.vendetta-new';
