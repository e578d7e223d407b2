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

/**
 * A file put into the guest by a shell script that reads the content from stdin: folders made,
 * then the file written beside its target and renamed over it, with its mode and owner.
 */
export function putFileCommand(f: GuestFileMeta, size?: number): string {
  const p = shellQuote(f.path);
  const mode = (f.mode & 0o7777).toString(8);
  const owner = `${f.uid ?? 0}:${f.gid ?? 0}`;
  if (f.type === 'directory') return `mkdir -p ${p} && chmod ${mode} ${p} && chown ${owner} ${p}`;
  const tmp = shellQuote(`${f.path}.vendetta-new`);
  // With a size, exactly that many bytes of stdin (dd never reads past its one block), so several
  // files can follow one another on one stdin; without, all of it.
  const write =
    size === undefined
      ? `cat > ${tmp}`
      : size === 0
        ? `: > ${tmp}`
        : `dd bs=${size} count=1 iflag=fullblock status=none of=${tmp}`;
  return `mkdir -p "$(dirname ${p})" && ${write} && chmod ${mode} ${tmp} && chown ${owner} ${tmp} && mv -f ${tmp} ${p}`;
}

export interface GuestFileMeta {
  path: string;
  type: 'file' | 'directory';
  mode: number;
  uid?: number;
  gid?: number;
}

/**
 * Several files in one command, their contents one after another on its stdin: one exec instead
 * of one per file (each costs a process start in the guest, slow under TCG). Stops at the first
 * that fails.
 */
export function putFilesCommand(files: Array<GuestFileMeta & { size: number }>): string {
  // `|| exit`, not `set -e`: a failure inside an && list does not end a set -e shell.
  return files.map((f) => `${putFileCommand(f, f.type === 'file' ? f.size : undefined)} || exit 1`).join('\n');
}
