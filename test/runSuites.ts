// Runs the chosen mocha suites in order (under c8) and writes the totals. The integration suite
// runs its files in parallel worker processes: its tests mostly wait on engines, sshds and guests,
// and each file brings its own (engines in their own network namespaces, a network index per
// process), so files do not share state.
import Mocha from 'mocha';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readTimings, recordTiming, TIMINGS_FILE } from './fileTimings';

// A worker writes its V8 coverage (NODE_V8_COVERAGE, set by c8) as it exits, which takes longer
// than workerpool's default one second before it kills the worker: give it the time, or the
// coverage of everything the parallel files ran is lost.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- patched in place: Mocha requires the same object
const pools = require('workerpool') as { pool: (script: string, opts: object) => unknown };
const makePool = pools.pool;
pools.pool = (script, opts) => makePool(script, { ...opts, workerTerminateTimeout: 120_000 });

const root = join(__dirname, '..');
// Unit tests that start real processes (git, sh) run beside the static checks: 10 s was tight on a busy 2-CPU machine.
const timeouts: Record<string, number> = { unit: 30_000, integration: 180_000, e2e: 300_000 };
/** Worker processes per suite (1 = in this process). VENDETTA_TEST_JOBS overrides. */
const jobs: Record<string, number> = { unit: 1, integration: 3, e2e: 1 };
/**
 * The integration files that take longest (seconds in a full run on a 2-CPU machine), started
 * first so the parallel run does not end waiting on one of them. A previous run's
 * test-results/timings.jsonl, when there is one, orders all files instead.
 */
const LONGEST_FIRST = [
  'qemuVm.test.ts', // 610-663 s
  'lifecycle.test.ts', // 320 s
  'workspaceNoSshd.test.ts', // 170 s
  'workspaceIdle.test.ts', // 158 s
  'lxdCluster.test.ts', // 135 s
  'workspace.test.ts', // 96 s
  'workspaceServices.test.ts', // 82 s
  'workspace-ssh.test.ts', // 79 s
  'agentServices.test.ts', // 75 s
  'syncRace.test.ts', // 71 s
  'nodeCli.test.ts', // 64 s
  'workspaceFaults.test.ts', // 62 s
];

function specFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  let out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(specFiles(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

interface SuiteResult {
  passed: number;
  failed: number;
  skipped: number;
  failures: string[];
}

/** Files in the order to start them: longest first by the last recorded run, else by LONGEST_FIRST. */
function ordered(suite: string, files: string[], previous: Map<string, number>): string[] {
  const rank = (f: string) => {
    const ms = previous.get(relative(root, f));
    if (ms !== undefined) return -ms;
    const i = LONGEST_FIRST.findIndex((name) => f.endsWith(`/${name}`));
    return suite === 'integration' && i >= 0 ? -1e9 + i : 0;
  };
  return [...files].sort((a, b) => rank(a) - rank(b));
}

async function runSuite(suite: string, previous: Map<string, number>): Promise<SuiteResult> {
  const workers = Number(process.env.VENDETTA_TEST_JOBS ?? jobs[suite] ?? 1);
  const files = ordered(suite, specFiles(join(root, 'test', suite)), previous);
  const parallel = workers > 1 && files.length > 1;
  process.env.VENDETTA_TEST_SUITE = suite; // read by fileTimings in the workers
  const mocha = new Mocha({
    reporter: 'spec',
    timeout: timeouts[suite] ?? 60_000,
    color: process.stdout.isTTY,
    ...(parallel ? { parallel: true, jobs: workers, require: [join(__dirname, 'fileTimings.ts')] } : {}),
  });
  const grep = process.env.VENDETTA_TEST_GREP;
  if (grep) mocha.grep(grep);
  if (files.length === 0) console.log(`(no ${suite} tests yet)`);
  for (const f of files) mocha.addFile(f);
  if (!parallel) await mocha.loadFilesAsync();
  console.log(`\n── ${suite}${parallel ? ` (${workers} files at a time)` : ''} ──`);
  const failures: string[] = [];
  return new Promise((resolve) => {
    const runner = mocha.run(() => {
      const s = runner.stats!;
      resolve({ passed: s.passes, failed: s.failures, skipped: s.pending, failures });
    });
    if (!parallel) {
      const started = new Map<Mocha.Suite, number>();
      runner.on('suite', (s) => s.file && s.parent?.root && started.set(s, Date.now()));
      runner.on('suite end', (s) => {
        const t = started.get(s);
        if (t !== undefined && s.file) recordTiming(suite, s.file, Date.now() - t);
      });
    }
    // One line per failure, repeated beside the totals so a log's tail says what failed.
    runner.on('fail', (test, err: Error) => {
      // The message's lines folded into one, so the tail also shows what an assertion got.
      const first = String(err?.message ?? err)
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .join(' ⏎ ')
        .slice(0, 600);
      failures.push(`${suite}: ${test.fullTitle()}: ${first}`);
      // Also at once, beside the test's ✖ line: a run cut short still says why each one failed.
      console.log(`      ✖ why: ${first}`);
    });
  });
}

/** The slowest files of this run, so a run that grows says where. */
function printSlowest(count: number): void {
  const byFile = new Map<string, number>();
  for (const t of readTimings()) byFile.set(t.file, (byFile.get(t.file) ?? 0) + t.ms);
  const slowest = [...byFile].sort((a, b) => b[1] - a[1]).slice(0, count);
  if (!slowest.length) return;
  console.log('\nslowest files (wall seconds):');
  for (const [file, ms] of slowest) console.log(`  ${(ms / 1000).toFixed(0).padStart(5)}  ${file}`);
}

async function main(): Promise<void> {
  const totals = { passed: 0, failed: 0, skipped: 0, failures: [] as string[] };
  const previous = new Map(readTimings().map((t) => [t.file, t.ms]));
  rmSync(TIMINGS_FILE, { force: true });
  for (const suite of process.argv.slice(2)) {
    const r = await runSuite(suite, previous);
    totals.passed += r.passed;
    totals.failed += r.failed;
    totals.skipped += r.skipped;
    totals.failures.push(...r.failures);
  }
  printSlowest(12);
  mkdirSync(join(root, 'test-results'), { recursive: true });
  writeFileSync(join(root, 'test-results/totals.json'), JSON.stringify(totals));
  // Suites must not leave handles behind; do not wait on them if one did.
  process.exit(totals.failed ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
