/** Durations (`500ms`, `2s`, `1m`, `1h`) and sizes (`512m`, `2g`) as the config writes them. */

const DURATION = /^([0-9]+)(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The longest duration a config may ask for: longer waits are typos, not intentions. */
export const MAX_DURATION_MS = 24 * UNIT_MS.h!;

/** Milliseconds for a duration string; throws a RangeError with the reason on anything else. */
export function parseDuration(s: string): number {
  const ms = tryParseDuration(s);
  if (ms === undefined)
    throw new RangeError(
      `${JSON.stringify(s)} is not a duration: write a whole number followed by ms, s, m or h (e.g. 2s)`,
    );
  return ms;
}

export function tryParseDuration(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const m = DURATION.exec(s);
  if (!m) return undefined;
  const ms = Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? NaN);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

const SIZE = /^([0-9]+)([kmgt])?$/i;
const UNIT_BYTES: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Bytes for a size (`2g` = 2 GiB; a bare number is bytes); throws a RangeError otherwise. */
export function parseSize(s: string | number): number {
  if (typeof s === 'number') {
    if (Number.isSafeInteger(s) && s > 0) return s;
  } else {
    const m = SIZE.exec(s);
    const bytes = m ? Number(m[1]) * (UNIT_BYTES[(m[2] ?? '').toLowerCase()] ?? NaN) : NaN;
    if (Number.isSafeInteger(bytes) && bytes > 0) return bytes;
  }
  throw new RangeError(`${JSON.stringify(s)} is not a size: write bytes, or a number with k, m, g or t (e.g. 2g)`);
}
