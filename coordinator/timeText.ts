/**
 * How every moment reads to a person, in the CLI's tables and the coordinator's diagnoses alike:
 * this machine's local time, `2026-12-05 04:10:31`, and in log lines the time of day with
 * milliseconds, `04:10:31.123` (the same clock, so the two line up).
 */
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function parse(iso: string): Date | undefined {
  const d = new Date(iso);
  return Number.isFinite(d.getTime()) ? d : undefined;
}

/** `YYYY-MM-DD HH:MM:SS` in this machine's time zone; `-` for what is not a time. */
export function localTime(iso: string | null | undefined): string {
  const d = iso ? parse(iso) : undefined;
  if (!d) return '-';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `HH:MM:SS.mmm` in this machine's time zone. */
export function clockTime(iso: string): string {
  const d = parse(iso);
  if (!d) return '??:??:??.???';
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
