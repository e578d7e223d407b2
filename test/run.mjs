#!/usr/bin/env node
// `npm test`: install missing system packages (as root), build, run the suites under c8,
// clean up, and end with the totals over all suites alone on the last line.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const all = ['unit', 'integration', 'e2e'];
const suites = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const chosen = suites.length ? suites : all;
const results = join(root, 'test-results');
mkdirSync(results, { recursive: true });
rmSync(join(results, 'totals.json'), { force: true });

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  return r.status ?? 1;
}

// Every suite, the unit one too (it runs the real sshd), gets the machine ready first.
if (run('bash', ['test/infra/setup.sh', ...chosen]) !== 0) {
  console.error('error: test infrastructure setup failed (see above)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
if (run('node', ['scripts/build.mjs']) !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// The QEMU guest and code-server, which the slowest integration file waits on first, are built
// beside the unit suite (niced, so the unit tests keep the CPUs); test/infra/prewarm.ts.
let prewarm;
if (chosen.includes('integration')) {
  const log = openSync(join(results, 'prewarm.log'), 'w');
  prewarm = spawn('nice', ['-n', '10', process.execPath, '--import', 'tsx', 'test/infra/prewarm.ts'], {
    cwd: root,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  prewarm.on('error', () => undefined);
}

// The full run also type-checks, lints and checks formatting: each counts as one check in the
// totals. They run beside the suites (which mostly wait on engines and nodes), one after another,
// their output held back and shown only when one fails.
const staticChecks = { passed: 0, failed: 0, failures: [], results: [] };
const staticDone = suites.length ? Promise.resolve() : runStaticChecks();

/** Runs a command without blocking; `capture` holds its output back (returned), else it is shown as it comes. */
function runAsync(cmd, args, capture) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    child.stdout?.on('data', (c) => (output += c));
    child.stderr?.on('data', (c) => (output += c));
    child.on('error', (err) => resolve({ code: 1, output: String(err) }));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

async function runStaticChecks() {
  for (const [title, cmd, args] of [
    ['typecheck (tsc -b)', join(root, 'node_modules/.bin/tsc'), ['-b']],
    ['lint (eslint)', join(root, 'node_modules/.bin/eslint'), ['.']],
    ['format (prettier --check)', join(root, 'node_modules/.bin/prettier'), ['--check', '--log-level=warn', '.']],
  ]) {
    const { code, output } = await runAsync(cmd, args, true);
    const ok = code === 0;
    staticChecks.results.push({ title, ok, output });
    staticChecks[ok ? 'passed' : 'failed']++;
    if (!ok) staticChecks.failures.push(`static: ${title} (its errors are printed above)`);
  }
}

const c8 = [
  'c8',
  '--reporter=text',
  '--reporter=json-summary',
  '--reports-dir=coverage',
  '--all',
  '--extension=.ts',
  '--exclude-after-remap',
  '--include=common/**',
  '--include=agent/**',
  '--include=coordinator/**',
  '--include=extension/**',
  '--exclude=**/*.d.ts',
  '--exclude=node_modules/**',
  '--exclude=**/*.test.ts',
  process.execPath,
  '--import',
  'tsx',
  'test/runSuites.ts',
  ...chosen,
];
const { code: status } = await runAsync(join(root, 'node_modules/.bin/' + c8[0]), c8.slice(1), false);
await staticDone;
// Done long before the suites in any run; one still going is ended here, by its pid.
if (prewarm && prewarm.exitCode === null && prewarm.signalCode === null) prewarm.kill('SIGTERM');
for (const { title, ok, output } of staticChecks.results) {
  if (!ok) process.stdout.write(output);
  console.log(`${ok ? '✔' : '✖'} ${title}`);
}

const totalsFile = join(results, 'totals.json');
const totals = existsSync(totalsFile)
  ? JSON.parse(readFileSync(totalsFile, 'utf8'))
  : { passed: 0, failed: 1, skipped: 0 };
if (status !== 0 && totals.failed === 0) totals.failed = 1; // the runner itself crashed
totals.passed += staticChecks.passed;
totals.failed += staticChecks.failed;
coverageByPart();
for (const f of [...staticChecks.failures, ...(totals.failures ?? [])]) console.log(`failed: ${f}`);
const skipped = totals.skipped ? `, ${totals.skipped} skipped` : '';
console.log(`${totals.passed} passed, ${totals.failed} failed${skipped}`);
process.exit(totals.failed ? 1 : 0);

/** Line coverage of each part, from c8's json-summary. */
function coverageByPart() {
  const file = join(root, 'coverage/coverage-summary.json');
  if (!existsSync(file)) return;
  const summary = JSON.parse(readFileSync(file, 'utf8'));
  const parts = {};
  for (const [path, s] of Object.entries(summary)) {
    if (path === 'total') continue;
    const part = path.slice(root.length).split('/')[0];
    parts[part] ??= { covered: 0, total: 0 };
    parts[part].covered += s.lines.covered;
    parts[part].total += s.lines.total;
  }
  const line = Object.entries(parts)
    .map(([p, s]) => `${p}/ ${((100 * s.covered) / Math.max(1, s.total)).toFixed(1)}%`)
    .join(', ');
  console.log(`line coverage: ${line}`);
}
