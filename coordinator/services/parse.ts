/** What people type for logs and forwards, parsed once for the CLI and the coordinator alike. */
import { VendettaError } from '../errors';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d{1,9})(ms|s|m|h|d)$/;
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `--since`: a duration back from `now` (`30s`, `5m`, `2h`, `1d`) or an ISO 8601 time; an ISO time back. */
export function parseSince(text: string, now = Date.now()): string {
  const t = text.trim();
  const d = DURATION.exec(t);
  if (d) return new Date(now - Number(d[1]) * UNITS[d[2]!]!).toISOString();
  if (ISO.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return new Date(ms).toISOString();
  }
  throw new VendettaError('INVALID_PARAMS', `Invalid --since: ${JSON.stringify(text.slice(0, 60))}`, {
    hint: 'Give a duration back from now (30s, 5m, 2h, 1d) or a time (2024-05-01T12:00:00Z).',
  });
}

export interface PortMapping {
  /** The port inside the workspace. */
  port: number;
  /** The port on this machine; absent: the same number if free, else any free port. */
  localPort?: number;
}

function portNumber(s: string, what: string, text: string, zero = false): number {
  const n = /^\d{1,5}$/.test(s) ? Number(s) : NaN;
  if (!(n >= (zero ? 0 : 1) && n <= 65535)) {
    throw new VendettaError(
      'INVALID_PARAMS',
      `Invalid ${what} in ${JSON.stringify(text.slice(0, 40))}: ports are 1 to 65535`,
      {
        hint: 'Write PORT or PORT:LOCALPORT, e.g. 8080 or 8080:18080 (`vendetta workspace ports WS` lists the ports).',
      },
    );
  }
  return n;
}

/** `PORT[:LOCALPORT]`; LOCALPORT 0 is the same as none. */
export function parsePortMapping(text: string): PortMapping {
  const parts = text.trim().split(':');
  if (parts.length > 2) portNumber('', 'port', text);
  const port = portNumber(parts[0] ?? '', 'port', text);
  const localPort = parts.length === 2 ? portNumber(parts[1] ?? '', 'local port', text, true) : 0;
  return localPort ? { port, localPort } : { port };
}
