/**
 * How an exec becomes the one command string SSH carries: every word single-quoted (an SSH exec
 * request is always run by the login shell), the working folder entered first, the environment
 * set with `env`, and another user reached with util-linux's `runuser` from the root login.
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

export function guestCommand(argv: string[], opts: GuestCommandOptions = {}): string {
  if (argv.length === 0) throw new Error('exec: empty argv');
  const env = Object.entries(opts.env ?? {});
  for (const [k] of env)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`not an environment variable name: ${k}`);
  const words = [
    'exec',
    ...(opts.user && opts.user !== 'root' ? ['runuser', '-u', opts.user, '--'] : []),
    ...(env.length ? ['env', ...env.map(([k, v]) => `${k}=${v}`)] : []),
    ...argv,
  ];
  const run = words.map((w, i) => (i === 0 ? w : shellQuote(w))).join(' ');
  return opts.workingDir ? `cd ${shellQuote(opts.workingDir)} && ${run}` : run;
}

/**
 * A file put into the guest by a shell script that reads the content from stdin: folders made,
 * then the file written beside its target and renamed over it, with its mode and owner.
 */
export function putFileCommand(f: {
  path: string;
  type: 'file' | 'directory';
  mode: number;
  uid?: number;
  gid?: number;
}): string {
  const p = shellQuote(f.path);
  const mode = (f.mode & 0o7777).toString(8);
  const owner = `${f.uid ?? 0}:${f.gid ?? 0}`;
  if (f.type === 'directory') return `mkdir -p ${p} && chmod ${mode} ${p} && chown ${owner} ${p}`;
  const tmp = shellQuote(`${f.path}.vendetta-new`);
  return `mkdir -p "$(dirname ${p})" && cat > ${tmp} && chmod ${mode} ${tmp} && chown ${owner} ${tmp} && mv -f ${tmp} ${p}`;
}
