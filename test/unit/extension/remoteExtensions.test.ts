import assert from 'node:assert/strict';
import { configPickItems } from '../../../extension/commands/configPick';
import {
  INSTALL_COMMAND,
  installPendingExtensions,
  installRequests,
  PENDING_EXTENSIONS_KEY,
  rememberExtensions,
  type StateStore,
} from '../../../extension/remote/remoteExtensions';
import { mergeSettingsText } from '../../../coordinator/workspaces/vscodeSettings';

function memento(): StateStore & { data: Map<string, unknown> } {
  const data = new Map<string, unknown>();
  return {
    data,
    get: <T>(k: string) => data.get(k) as T | undefined,
    update: (k: string, v: unknown) => {
      data.set(k, structuredClone(v));
      return Promise.resolve();
    },
  };
}
const quiet = { info: () => undefined, warn: () => undefined };

describe("customizations.vscode in the workspace's remote window", () => {
  it('asks VS Code to install each extension not installed yet, once, whatever its case', () => {
    const installed = new Set(['ms-python.python']);
    assert.deepEqual(
      installRequests(['dbaeumer.vscode-eslint', 'ms-python.python', 'DBAEUMER.vscode-eslint', 'golang.go'], (id) =>
        installed.has(id.toLowerCase()),
      ),
      [
        { command: INSTALL_COMMAND, id: 'dbaeumer.vscode-eslint' },
        { command: INSTALL_COMMAND, id: 'golang.go' },
      ],
    );
    assert.equal(INSTALL_COMMAND, 'workbench.extensions.installExtension');
  });

  it('installs what Reopen left for this workspace only, keeps a failed one for the next window', async () => {
    const state = memento();
    await rememberExtensions(state, 'shop.local.vendetta', ['a.one', 'b.two']);
    await rememberExtensions(state, 'other.local.vendetta', ['c.three']);
    const ran: string[] = [];
    const done = await installPendingExtensions(
      state,
      'shop.local.vendetta',
      (command, id) => {
        ran.push(`${command} ${id}`);
        return id === 'b.two' ? Promise.reject(new Error('offline')) : Promise.resolve();
      },
      () => false,
      quiet,
    );
    assert.deepEqual(done, ['a.one']);
    assert.deepEqual(ran, [`${INSTALL_COMMAND} a.one`, `${INSTALL_COMMAND} b.two`]);
    assert.deepEqual(state.data.get(PENDING_EXTENSIONS_KEY), {
      'shop.local.vendetta': ['b.two'],
      'other.local.vendetta': ['c.three'],
    });
    assert.deepEqual(
      await installPendingExtensions(
        state,
        'none.local.vendetta',
        () => Promise.resolve(),
        () => false,
        quiet,
      ),
      [],
    );
  });

  it('offers each config of a folder with several in the Reopen picker', () => {
    assert.deepEqual(
      configPickItems([
        '.vendetta/config.yaml',
        '.devcontainer/devcontainer.json',
        '.devcontainer/go/devcontainer.json',
        '.devcontainer/py/devcontainer.json',
      ]).map((i) => [i.label, i.config]),
      [
        ['Vendetta config', '.vendetta/config.yaml'],
        ['Dev Container', '.devcontainer/devcontainer.json'],
        ['Dev Container: go', '.devcontainer/go/devcontainer.json'],
        ['Dev Container: py', '.devcontainer/py/devcontainer.json'],
      ],
    );
  });

  it("merges settings into the remote's machine settings, keeping its own keys and comments", () => {
    assert.equal(mergeSettingsText('', { 'editor.tabSize': 2 }), '{\n  "editor.tabSize": 2\n}\n');
    const merged = mergeSettingsText('{\n  // mine\n  "a": 1,\n  "editor.tabSize": 8\n}\n', {
      'editor.tabSize': 2,
      'files.eol': '\n',
    })!;
    assert.match(merged, /\/\/ mine/);
    assert.deepEqual(JSON.parse(merged.replace(/\/\/ mine\n/, '')), { a: 1, 'editor.tabSize': 2, 'files.eol': '\n' });
    assert.equal(mergeSettingsText('[1]', { a: 1 }), undefined);
    assert.equal(mergeSettingsText('{ broken', { a: 1 }), undefined);
  });
});
