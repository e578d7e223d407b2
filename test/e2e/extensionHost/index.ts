/**
 * Mocha inside the real extension host (code-server's, or desktop VS Code's through
 * .vscode-test.mjs): VS Code calls `run()` and reports its outcome as the exit code. Each test's
 * result is also appended as a JSON line to $VENDETTA_E2E_RESULTS, which the node-side suite
 * replays as its own tests, so every in-host test counts in the project's totals. The in-host
 * suites are named *.host.ts: the node-side runner picks up *.test.ts and must not load them.
 */
import { appendFileSync } from 'node:fs';
import Mocha from 'mocha';

export interface InHostResult {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  ms: number;
  error?: string;
}

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 180_000, color: false, reporter: 'spec' });
  const grep = process.env.VENDETTA_TEST_GREP;
  if (grep) mocha.grep(grep);
  // The suites are bundled into this file: give them mocha's globals, then load them in order.
  mocha.suite.emit('pre-require', globalThis, 'extensionHost', mocha);
  await import('./activation.host.js');
  await import('./configDiagnostics.host.js');
  await import('./tree.host.js');
  await import('./reopen.host.js');
  await import('./workspaceCommands.host.js');
  await import('./lxd.host.js');
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
