/**
 * `npm run bench [-- --only NAME]`: runs every benchmark against real components, prints a table
 * and writes bench-results.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatTable } from '../../coordinator/cli/output';
import { verdict, type Benchmark, type BenchResult } from './harness';
import { benchmarks } from './index';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
  const chosen: Benchmark[] = only ? benchmarks.filter((b) => b.name === only || b.name.startsWith(only)) : benchmarks;
  if (chosen.length === 0) {
    process.stderr.write(
      `error: no benchmark named ${only}\nhint: one of ${benchmarks.map((b) => b.name).join(', ')}\n`,
    );
    return 2;
  }
  const results: BenchResult[] = [];
  let failed = 0;
  for (const b of chosen) {
    const missing = b.requires?.();
    if (missing) {
      process.stderr.write(`${b.name}: cannot run here: ${missing}\n`);
      failed++;
      continue;
    }
    process.stderr.write(`running ${b.name}…\n`);
    try {
      results.push(...(await b.run()));
    } catch (err) {
      failed++;
      process.stderr.write(`${b.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
  }
  process.stdout.write(
    formatTable(results, [
      { header: 'benchmark', value: (r) => r.name },
      { header: 'value', value: (r) => `${r.value} ${r.unit}` },
      { header: 'baseline', value: (r) => `${r.baselineValue} ${r.unit} (${r.baseline})` },
      { header: 'ratio', value: (r) => r.ratio.toFixed(2) },
      { header: 'target', value: (r) => (r.target === null ? 'report' : `≤ ${r.target}`) },
      { header: 'ok', value: verdict },
    ]),
  );
  for (const r of results) if (r.note) process.stdout.write(`${r.name}: ${r.note}\n`);
  const file = join(__dirname, '..', '..', 'bench-results.json');
  // With --only, the other benchmarks' last figures stay in the file.
  const kept = only ? previousResults(file).filter((r) => !results.some((n) => n.name === r.name)) : [];
  writeFileSync(file, JSON.stringify([...kept, ...results], null, 2) + '\n');
  process.stderr.write(`wrote ${file}\n`);
  return failed ? 1 : 0;
}

function previousResults(file: string): BenchResult[] {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return Array.isArray(data) ? (data as BenchResult[]).filter((r) => typeof r?.name === 'string') : [];
  } catch {
    return []; // none yet, or unreadable: start afresh
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
