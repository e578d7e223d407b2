/** Delays between reconnect attempts: exponential from 1 s to a 30 s cap, with jitter. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Each delay is scaled by a random factor in [1 - jitter, 1 + jitter] (then capped). */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0.2 };

/**
 * The delay before attempt `attempt` (0 = the first retry). Jitter keeps many coordinators
 * (or many nodes of one) from retrying in lockstep after a shared outage.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exp = opts.initialMs * Math.pow(opts.factor, Math.max(0, Math.min(attempt, 64)));
  const base = Math.min(opts.maxMs, exp);
  const scaled = base * (1 - opts.jitter + 2 * opts.jitter * random());
  return Math.round(Math.min(opts.maxMs, scaled));
}
