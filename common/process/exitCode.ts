/**
 * A command's exit status as a shell reports it, from what SSH (or a child process) says ended
 * it: its own code, 128 + the number of the signal that killed it, or 255 when neither is known.
 */
import { constants } from 'node:os';

export function shellExitCode(code: number | null | undefined, signal?: string | null): number {
  if (typeof code === 'number') return code;
  if (!signal) return 255;
  // SSH names signals without the SIG prefix ("TERM"); Node with it.
  const name = (signal.startsWith('SIG') ? signal : `SIG${signal}`) as NodeJS.Signals;
  return 128 + (constants.signals[name] ?? 0);
}
