/**
 * A workspace's secrets as the laptop has them: the config's `secretsFile`, read at each `up`,
 * refused while git tracks it (a secret in a repository is out already), and never synced (up
 * leaves it out of the code sync). Messages name the file, a line and a variable, never a value.
 *
 * The parser is hand-written (≈40 lines) rather than dotenv's: dotenv skips lines it cannot read
 * without a word and accepts multi-line values, which an SSH login environment cannot carry; here a
 * bad line is an error with its line number.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { MAX_SECRETS, secretProblem } from '../../agent/protocol';
import { VendettaError } from '../errors';

export interface LaptopSecrets {
  /** The file, relative to the project folder (POSIX), as the config names it. */
  path: string;
  values: Record<string, string>;
}

const MAX_FILE_BYTES = 1024 * 1024;

function refused(message: string, hint: string, cause?: unknown): VendettaError {
  return new VendettaError('SECRETS_REFUSED', message, { hint, ...(cause !== undefined ? { cause } : {}) });
}

/** `NAME=value`, `export NAME=value`, `NAME="va lue"` / `'…'`; `#` comments and blank lines skipped. */
export function parseSecrets(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    const where = `${file}:${i + 1}`;
    if (!m) throw refused(`${where}: not a NAME=value line`, 'Write one variable per line as NAME=value.');
    const name = m[1]!;
    let value = m[2]!;
    const quote = value[0];
    if (quote === '"' || quote === "'") {
      if (value.length < 2 || !value.endsWith(quote))
        throw refused(
          `${where}: the value of ${name} opens a quote it does not close`,
          'Close the quote on the same line.',
        );
      value = value.slice(1, -1);
      if (quote === '"') value = value.replace(/\\(["\\])/g, '$1');
    } else {
      value = value.replace(/\s+#.*$/, ''); // a comment after an unquoted value
    }
    const problem = secretProblem(name, value);
    if (problem) throw refused(`${where}: ${problem}`, 'Give each secret a variable name and a one-line value.');
    if (name in out) throw refused(`${where}: ${name} is set twice`, 'Keep one line per variable.');
    out[name] = value;
  });
  if (Object.keys(out).length > MAX_SECRETS)
    throw refused(`${file} holds more than ${MAX_SECRETS} variables`, 'Keep fewer secrets in it.');
  return out;
}

/** Whether git tracks `rel` in the repository around `root` (false outside one, or without git). */
export function gitTracks(root: string, rel: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(
      'git',
      ['ls-files', '--error-unmatch', '--', rel],
      { cwd: root, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } },
      (err) => resolve(!err),
    );
  });
}

export async function loadLaptopSecrets(projectPath: string, configured: string): Promise<LaptopSecrets> {
  // As the sync names files (`./a/b` is `a/b`), so that leaving it out of the sync cannot miss.
  const secretsFile = posix.normalize(configured);
  if (await gitTracks(projectPath, secretsFile)) {
    throw refused(
      `${secretsFile} holds secrets and git tracks it, so it would be committed and pushed with the code`,
      `Take it out of the repository and ignore it: \`git rm --cached -- ${secretsFile}\`, then add it to .gitignore (and change any secret already pushed).`,
    );
  }
  let text: string;
  try {
    const buf = await readFile(join(projectPath, ...secretsFile.split('/')));
    if (buf.length > MAX_FILE_BYTES) throw new Error('larger than 1 MiB');
    text = buf.toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw refused(
      code === 'ENOENT'
        ? `The secrets file ${secretsFile} (secretsFile in the config) does not exist`
        : `Cannot read the secrets file ${secretsFile}: ${code ?? (err as Error).message}`,
      code === 'ENOENT'
        ? `Create it with NAME=value lines (and list it in .gitignore), or take secretsFile out of the config.`
        : "Check the file's permissions.",
      err,
    );
  }
  return { path: secretsFile, values: parseSecrets(text, secretsFile) };
}
