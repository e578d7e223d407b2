import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { VendettaApi } from '../../../extension/activateRemoteNodes';
import { extension, reportMetric } from './hostEnv';

interface ContributedCommand {
  command: string;
  title: string;
  category?: string;
}

describe('the extension in a real VS Code', () => {
  it('activates and returns its API (the time it took is reported, not asserted: npm run bench -- --only extension-activation)', async () => {
    const ext = extension();
    // The test folder holds no .vendetta/config.yaml, so nothing activated the extension yet
    // unless the manifest asks for activation at startup.
    let api: unknown;
    if (!ext.isActive) {
      // Let the window finish starting up first: the number is the extension's, not the queue's.
      await new Promise((r) => setTimeout(r, 1500));
      const t0 = performance.now();
      api = await ext.activate();
      reportMetric('activation', performance.now() - t0, 'ms');
    }
    assert.equal(ext.isActive, true);
    const exported = (api ?? ext.exports) as Partial<VendettaApi> | undefined;
    assert.ok(exported, 'activate() returned the API');
    assert.equal(exported, ext.exports, 'the API activate() returned is the one other extensions get');
    assert.equal(typeof exported.setFolderOpener, 'function');
    assert.equal(typeof exported.client?.request, 'function');
    assert.equal(typeof exported.tree?.getChildren, 'function');
  });

  it('registers exactly the commands package.json contributes, each with a title in category Vendetta', async () => {
    const contributes = (
      extension().packageJSON as {
        contributes?: { commands?: ContributedCommand[]; views?: Record<string, Array<{ id: string }>> };
      }
    ).contributes;
    const contributed = contributes?.commands ?? [];
    // VS Code itself registers `<view id>.focus` and the like for every contributed view.
    const views = Object.values(contributes?.views ?? {})
      .flat()
      .map((v) => `${v.id}.`);
    const registered = (await vscode.commands.getCommands(true))
      .filter((c) => c.startsWith('vendetta.') && !views.some((v) => c.startsWith(v)))
      .sort();
    assert.deepEqual(registered, contributed.map((c) => c.command).sort());
    for (const c of contributed) {
      assert.ok(c.title, `${c.command} has a title`);
      assert.equal(c.category, 'Vendetta', `${c.command} is in category Vendetta`);
    }
  });
});
