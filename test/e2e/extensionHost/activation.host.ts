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
      // Let the window finish starting up first: the number is the extension's, not the queue's.
      await new Promise((r) => setTimeout(r, 1500));
      const t0 = performance.now();
      await ext.activate();
      const ms = performance.now() - t0;
      reportMetric('activation', ms, 'ms');
      assert.ok(ms < 200, `activation took ${ms.toFixed(0)} ms`);
    }
    assert.equal(ext.isActive, true);
  });

  it('registers exactly the commands package.json contributes, each with a title in category Vendetta', async () => {
    const contributes = (extension().packageJSON as { contributes?: { commands?: ContributedCommand[]; views?: Record<string, Array<{ id: string }>> } }).contributes;
    const contributed = contributes?.commands ?? [];
    // VS Code itself registers `<view id>.focus` and the like for every contributed view.
    const views = Object.values(contributes?.views ?? {}).flat().map((v) => `${v.id}.`);
    const registered = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith('vendetta.') && !views.some((v) => c.startsWith(v))).sort();
    assert.deepEqual(registered, contributed.map((c) => c.command).sort());
    for (const c of contributed) {
      assert.ok(c.title, `${c.command} has a title`);
      assert.equal(c.category, 'Vendetta', `${c.command} is in category Vendetta`);
    }
  });
});
