/**
 * Ends the process once what it wrote to stdout and stderr has left it. On Linux, writes to a pipe
 * or socket are asynchronous (Node's "note on process I/O"): `process.exit()` right after a write
 * can drop it, which under load left a command's reply or error message empty.
 */
import type { Writable } from 'node:stream';

/** A reader that went away must not hold the exit: past this the process ends anyway. */
const FLUSH_LIMIT_MS = 5_000;

export function exitWhenFlushed(
  code: number,
  streams: readonly Writable[] = [process.stdout, process.stderr],
  limitMs = FLUSH_LIMIT_MS,
): void {
  let left = streams.length;
  const limit = setTimeout(() => exit(), limitMs);
  const exit = () => {
    clearTimeout(limit);
    process.exit(code);
  };
  const flushed = () => {
    if (--left === 0) exit();
  };
  for (const s of streams) {
    if (s.destroyed || s.writableEnded) {
      flushed();
      continue;
    }
    // A broken pipe only means nobody reads any more: ending is still right.
    s.on('error', () => undefined);
    // Writes complete in order, so this callback runs once every earlier write has left.
    s.write('', () => flushed());
  }
  if (streams.length === 0) exit();
}
