/** Small checks every part of a workspace spec uses at the agent's boundary. */
export { isObj, type JsonObject as Obj } from '../../common/json/shape';
// eslint-disable-next-line no-control-regex
export const CONTROL = /[\u0000-\u001f\u007f]/;

/** A positive number from a workspace spec, within bounds; `undefined` when absent. */
export function positiveNumber(
  invalid: (what: string) => Error,
  what: string,
  v: unknown,
  opts: { integer?: boolean; min?: number; max: number },
): number | undefined {
  if (v === undefined) return undefined;
  if (
    typeof v !== 'number' ||
    !Number.isFinite(v) ||
    v <= 0 ||
    v > opts.max ||
    (opts.integer && !Number.isSafeInteger(v)) ||
    v < (opts.min ?? 0)
  ) {
    throw invalid(
      `${what} must be a ${opts.integer ? 'whole ' : ''}number from ${opts.min ?? '>0'} to ${opts.max}, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}
