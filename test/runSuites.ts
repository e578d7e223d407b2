// Runs the chosen mocha suites in order in one process (under c8) and writes the totals.
import Mocha from 'mocha';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const timeouts: Record<string, number> = { unit: 10_000, integration: 180_000, e2e: 300_000 };

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

async function runSuite(suite: string): Promise<SuiteResult> {
  const mocha = new Mocha({ reporter: 'spec', timeout: timeouts[suite] ?? 60_000, color: process.stdout.isTTY });
  const grep = process.env.VENDETTA_TEST_GREP;
  if (grep) mocha.grep(grep);
  const files = specFiles(join(root, 'test', suite));
  if (files.length === 0) console.log(`(no ${suite} tests yet)`);
  for (const f of files) mocha.addFile(f);
  await mocha.loadFilesAsync();
  console.log(`\n── ${suite} ──`);
  const failures: string[] = [];
  return new Promise((resolve) => {
    const runner = mocha.run(() => {
      const s = runner.stats!;
      resolve({ passed: s.passes, failed: s.failures, skipped: s.pending, failures });
    });
    // One line per failure, repeated beside the totals so a log's tail says what failed.
    runner.on('fail', (test, err: Error) => {
      const first = (String(err?.message ?? err).split('\n')[0] ?? '').slice(0, 200);
      failures.push(`${suite}: ${test.fullTitle()}: ${first}`);
    });
  });
}

async function main(): Promise<void> {
  const totals = { passed: 0, failed: 0, skipped: 0, failures: [] as string[] };
  for (const suite of process.argv.slice(2)) {
    const r = await runSuite(suite);
    totals.passed += r.passed;
    totals.failed += r.failed;
    totals.skipped += r.skipped;
    totals.failures.push(...r.failures);
  }
  mkdirSync(join(root, 'test-results'), { recursive: true });
  writeFileSync(join(root, 'test-results/totals.json'), JSON.stringify(totals));
  // Suites must not leave handles behind; do not wait on them if one did.
  process.exit(totals.failed ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
