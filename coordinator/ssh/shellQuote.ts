/**
 * Quoting for the one shell we cannot avoid: an SSH exec request is a single string that the
 * node's login shell parses. Every argument goes through here; nothing is concatenated raw.
 */

/** Characters that mean nothing to sh, bash, dash, zsh or fish when unquoted (`=` and `~` excluded at the start). */
const SAFE_WORD = /^[A-Za-z0-9_/.:@+-][A-Za-z0-9_/.:@+,=-]*$/;

/** One argument, quoted so that any POSIX shell passes it through byte for byte. */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('A shell argument cannot contain a NUL byte');
  if (SAFE_WORD.test(arg)) return arg;
  // Inside single quotes nothing is special except the closing quote: end the quoted run,
  // add an escaped quote, and start a new run.
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line from an argv array: each word quoted, joined by spaces. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('An empty command line');
  return argv.map(shellQuote).join(' ');
}

/**
 * `sh -c SCRIPT NAME ARGS…` as one command line: the script runs under sh whatever the
 * login shell is, and its arguments arrive as $1… instead of being pasted into the script.
 */
export function shScript(script: string, args: readonly string[] = []): string {
  return shellCommand(['exec', 'sh', '-c', script, 'vendetta', ...args]);
}
