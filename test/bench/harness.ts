/**
 * Benchmark plumbing: each benchmark measures its figure and a baseline in the same run, and
 * reports the ratio against a target (DESIGN.md "Benchmarks"). Medians, since the machine is noisy.
 */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: string;
  baselineValue: number;
  ratio: number;
  /** The ratio it must stay under; null where this machine cannot show it (reported only, with why). */
  target: number | null;
  /** Why a figure has no target here, or what it is made of (e.g. where the CPU went). */
  note?: string;
}

export interface Benchmark {
  name: string;
  /** What it needs (root, a tool) — checked before it runs. */
  requires?: () => string | undefined;
  run(): Promise<BenchResult[]>;
}

export function result(
  name: string,
  value: number,
  unit: string,
  baseline: string,
  baselineValue: number,
  target: number | null,
  note?: string,
): BenchResult {
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    name,
    value: round(value),
    unit,
    baseline,
    baselineValue: round(baselineValue),
    ratio: round(value / baselineValue),
    target,
    ...(note === undefined ? {} : { note }),
  };
}

/** ✔ under its target, ✖ over it, — when reported only. */
export function verdict(r: BenchResult): string {
  if (r.target === null) return '—';
  return r.ratio <= r.target ? '✔' : '✖';
}

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] as number;
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** Milliseconds taken by `fn`. */
export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
