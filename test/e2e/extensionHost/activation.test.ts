import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import { extension, reportMetric } from './hostEnv';

interface ContributedCommand {
  command: string;
  title: string;
  category?: string;
}

describe('the extension in a real VS Code', () => {
  it('activates in under 200 ms', async () => {
    const ext = extension();
    // The test folder holds no .vendetta/config.yaml, so nothing activated the extension yet
    // unless the manifest asks for activation at startup.
    if (!ext.isActive) {
      const t0 = performance.now();
      await ext.activate();
      const ms = performance.now() - t0;
      reportMetric('activation', ms, 'ms');
      assert.ok(ms < 200, `activation took ${ms.toFixed(0)} ms`);
    }
    assert.equal(ext.isActive, true);
  });

  it('registers exactly the commands package.json contributes, each with a title in category Vendetta', async () => {
    const contributed = ((extension().packageJSON as { contributes?: { commands?: ContributedCommand[] } }).contributes?.commands ?? []);
    const registered = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith('vendetta.')).sort();
    assert.deepEqual(registered, contributed.map((c) => c.command).sort());
    for (const c of contributed) {
      assert.ok(c.title, `${c.command} has a title`);
      assert.equal(c.category, 'Vendetta', `${c.command} is in category Vendetta`);
    }
  });
});
