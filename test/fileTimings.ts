// Wall time per spec file, so the slow ones can be found (and run first in parallel mode).
// In a parallel worker root hooks run once per file: this module is loaded there through Mocha's
// `require` option. The serial runner records the same lines from its own events.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Context } from 'mocha';

const root = join(__dirname, '..');
export const TIMINGS_FILE = join(root, 'test-results', 'timings.jsonl');

export interface FileTiming {
  suite: string;
  file: string;
  ms: number;
}

export function recordTiming(suite: string, file: string, ms: number): void {
  mkdirSync(join(root, 'test-results'), { recursive: true });
  appendFileSync(TIMINGS_FILE, JSON.stringify({ suite, file: relative(root, file), ms }) + '\n');
}

export function readTimings(): FileTiming[] {
  if (!existsSync(TIMINGS_FILE)) return [];
  return readFileSync(TIMINGS_FILE, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as FileTiming);
}

let started = 0;
let file: string | undefined;

export const mochaHooks = {
  beforeAll(this: Context) {
    started = Date.now();
    file = this.test?.parent?.suites.find((s) => s.file)?.file;
  },
  afterAll() {
    if (file) recordTiming(process.env.VENDETTA_TEST_SUITE ?? 'integration', file, Date.now() - started);
  },
};
