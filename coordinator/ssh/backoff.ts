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
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exp = opts.initialMs * Math.pow(opts.factor, Math.max(0, Math.min(attempt, 64)));
  const base = Math.min(opts.maxMs, exp);
  const scaled = base * (1 - opts.jitter + 2 * opts.jitter * random());
  return Math.round(Math.min(opts.maxMs, scaled));
}

/**
 * A node link's reconnects: one retry pending at a time, each delay longer than the last until a
 * success resets it. Both agent clients (SSH and local) reconnect through one.
 */
export class RetrySchedule {
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: BackoffOptions = DEFAULT_BACKOFF) {}

  /** How many retries were scheduled since the last success. */
  get attempts(): number {
    return this.attempt;
  }

  get pending(): boolean {
    return this.timer !== undefined;
  }

  /** Waits at least as long as attempt `n` would (a failure that will not clear soon). */
  skipTo(n: number): void {
    this.attempt = Math.max(this.attempt, n);
  }

  /** Runs `retry` after the next delay (its failure is its own to handle); returns the delay, or undefined when one is pending. */
  schedule(retry: () => Promise<unknown>): number | undefined {
    if (this.timer) return undefined;
    const delay = backoffDelay(this.attempt++, this.opts);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      retry().catch(() => undefined);
    }, delay);
    this.timer.unref();
    return delay;
  }

  /** A success: nothing pending, and the next failure starts again from the shortest delay. */
  reset(): void {
    this.attempt = 0;
    this.cancel();
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
