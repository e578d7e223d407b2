/**
 * Whether and when an exited service is started again: the policy decides whether, an
 * exponential backoff decides when, and too many restarts within a window is a crash loop —
 * no more restarts until the next services/start.
 */
import type { RestartPolicy } from '../protocol';

export interface BackoffOptions {
  /** The first restart's delay; doubled for each further restart within the window. */
  baseMs: number;
  maxMs: number;
  /** More than `maxRestarts` restarts within `windowMs` is a crash loop. */
  maxRestarts: number;
  windowMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000, maxRestarts: 5, windowMs: 60_000 };

export function wantsRestart(policy: RestartPolicy, exitCode: number | null): boolean {
  if (policy === 'always') return true;
  if (policy === 'on-failure') return exitCode !== 0;
  return false;
}

/**
 * Exit codes the shell gives when the command cannot run at all (126: found but not executable,
 * 127: not found): restarting cannot help, so the service fails at once with the reason.
 */
export function hopelessExit(exitCode: number | null): string | undefined {
  if (exitCode === 127) return 'command not found';
  if (exitCode === 126) return 'command not executable';
  return undefined;
}

export type RestartDecision =
  | { action: 'restart'; delayMs: number; attempt: number }
  | { action: 'crashloop'; restarts: number };

export class RestartTracker {
  private restarts: number[] = [];

  constructor(private readonly opts: BackoffOptions = DEFAULT_BACKOFF) {}

  /** An exit the policy wants restarted, at `now`: when to restart, or a crash loop. */
  next(now: number): RestartDecision {
    this.restarts = this.restarts.filter((t) => now - t < this.opts.windowMs);
    if (this.restarts.length >= this.opts.maxRestarts) return { action: 'crashloop', restarts: this.restarts.length };
    const attempt = this.restarts.length + 1;
    this.restarts.push(now);
    return { action: 'restart', delayMs: Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** (attempt - 1)), attempt };
  }

  /** A fresh start by the user forgets earlier crashes. */
  reset(): void {
    this.restarts = [];
  }
}
