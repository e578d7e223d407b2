/** Shape checks for JSON that came from elsewhere (a daemon's reply, an agent's answer, a file). */

export type JsonObject = Record<string, unknown>;

/** A JSON object: not null, not an array. */
export const isObj = (v: unknown): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The value when it is a string. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The string-valued fields of an object (labels, a config map); anything else is left out. */
export function stringFields(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObj(v)) for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}
