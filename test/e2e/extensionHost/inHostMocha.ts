/**
 * Mocha inside the real extension host, for a bundle's `run()` (VS Code calls it and reports its
 * outcome as the exit code). Each test's result is also appended as a JSON line to
 * $VENDETTA_E2E_RESULTS, which the node side reads back, so every in-host test counts in the
 * project's totals.
 */
import { appendFileSync } from 'node:fs';
import Mocha from 'mocha';

export interface InHostResult {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  ms: number;
  error?: string;
}

/** Runs the suites `load` imports (they are bundled into the caller: mocha's globals are set first). */
export async function runInHost(load: () => Promise<void>): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 180_000, color: false, reporter: 'spec' });
  const grep = process.env.VENDETTA_TEST_GREP;
  if (grep) mocha.grep(grep);
  mocha.suite.emit('pre-require', globalThis, 'extensionHost', mocha);
  await load();
  const out = process.env.VENDETTA_E2E_RESULTS;
  const record = (r: InHostResult) => {
    if (out) appendFileSync(out, JSON.stringify(r) + '\n');
  };
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) =>
      failures ? reject(new Error(`${failures} extension-host test(s) failed`)) : resolve(),
    );
    runner.on('pass', (t) => record({ title: t.fullTitle(), state: 'passed', ms: t.duration ?? 0 }));
    runner.on('fail', (t, err: Error) =>
      record({ title: t.fullTitle(), state: 'failed', ms: t.duration ?? 0, error: err?.stack ?? String(err) }),
    );
    runner.on('pending', (t) => record({ title: t.fullTitle(), state: 'pending', ms: 0 }));
  });
}
