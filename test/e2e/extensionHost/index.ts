/**
 * The e2e suite's bundle (test/e2e/extensionHost.test.ts), run by mocha inside the real extension
 * host (code-server's, or desktop VS Code's through .vscode-test.mjs) through inHostMocha.ts. The
 * in-host suites are named *.host.ts: the node-side runner picks up *.test.ts and must not load them.
 */
import { runInHost } from './inHostMocha';

export function run(): Promise<void> {
  return runInHost(async () => {
    await import('./activation.host.js');
    await import('./configDiagnostics.host.js');
    await import('./tree.host.js');
    await import('./reopen.host.js');
    await import('./workspaceCommands.host.js');
    await import('./lxd.host.js');
  });
}
