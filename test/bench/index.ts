import type { Benchmark } from './harness';

/** Every benchmark `npm run bench` knows. */
export const benchmarks: Benchmark[] = [];
