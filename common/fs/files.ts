/** Small reads that treat a missing file as empty: log files before their first line, stores before their first write. */
import { readFileSync, statSync } from 'node:fs';

/** The file's size, or 0 when it is not there (or cannot be seen). */
export function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The file's text, or undefined when it does not exist; any other failure is thrown. */
export function readTextIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
