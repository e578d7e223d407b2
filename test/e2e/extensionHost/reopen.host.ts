import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { extension, reportMetric, requireE2eInfo, run, vendettaApi, type E2eInfo } from './hostEnv';

describe('Reopen Folder in Remote Workspace, for real', function () {
  let info: E2eInfo;
  let opened: Array<{ uri: vscode.Uri; newWindow: boolean }> = [];

  before(async function () {
    info = requireE2eInfo(this);
    const api = await vendettaApi();
    api.setFolderOpener((uri, opts) => {
      opened.push({ uri, newWindow: opts.newWindow });
      return Promise.resolve();
    });
  });
  after(async () => (await vendettaApi()).setFolderOpener(undefined));

  it("brings the open folder's workspace up on the config's node and opens exactly vscode-remote://ssh-remote+<ws>.<node>.vendetta<folder>", async function () {
    this.timeout(300_000);
    const p = info.reopenProject!;
    // The project appears only now: a config present at start-up would have activated the extension before it was timed.
    cpSync(p.source, p.folder, { recursive: true, filter: (src) => !src.includes('.vendetta') });
    mkdirSync(join(p.folder, '.vendetta'), { recursive: true });
    writeFileSync(join(p.folder, '.vendetta', 'config.yaml'), p.config);
    opened = [];
    const t0 = Date.now();
    let settled = false;
    const command = Promise.resolve(vscode.commands.executeCommand<string>('vendetta.reopenInRemoteWorkspace')).finally(
      () => (settled = true),
    );
    // The node quick pick has the config's node first (suggested): accept it as a person pressing Enter would.
    while (!settled && Date.now() - t0 < 240_000) {
      await new Promise((r) => setTimeout(r, 300));
      if (!settled) await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    }
    const returned = await command;
    reportMetric('Reopen in Remote Workspace (workspace up + sync)', Date.now() - t0, 'ms');
    const expected = `vscode-remote://ssh-remote+${p.name}.${p.node}.vendetta/workspaces/${p.name}`;
    assert.equal(returned, expected);
    assert.equal(opened.length, 1);
    assert.equal(opened[0]!.uri.toString(true), expected);
    assert.equal(opened[0]!.uri.scheme, 'vscode-remote');
    assert.equal(opened[0]!.uri.authority, `ssh-remote+${p.name}.${p.node}.vendetta`);
    assert.equal(opened[0]!.uri.path, `/workspaces/${p.name}`);
    assert.equal(opened[0]!.newWindow, false, 'reopens in this window');
  });

  it('real OpenSSH reaches that workspace with the generated ssh_config, running its ProxyCommand as written', async function () {
    this.timeout(120_000);
    const p = info.reopenProject!;
    const config = join(info.home, 'ssh_config');
    const text = readFileSync(config, 'utf8');
    const alias = `${p.name}.${p.node}.vendetta`;
    const block = text.split(/^Host /m).find((b) => b.startsWith(`${alias}\n`) || b.startsWith(`${alias} `));
    assert.ok(block, `no Host block for ${alias} in ${config}:\n${text}`);
    const proxy = /^\s*ProxyCommand (.+)$/m.exec(block)?.[1];
    assert.ok(proxy, block);
    assert.match(proxy, /^'\/[^']+' /, `the ProxyCommand starts with an absolute runtime path: ${proxy}`);
    const bundledProxy = join(extension().extensionPath, 'dist', 'ssh-proxy.js');
    assert.ok(
      proxy.includes(`'${bundledProxy}' '--home'`),
      `the ProxyCommand runs the extension's bundled ssh-proxy (${bundledProxy}): ${proxy}`,
    );
    // ssh runs the ProxyCommand itself through the user's shell, exactly as the file says.
    const env = { ...process.env, SSH_AUTH_SOCK: '' };
    const t0 = Date.now();
    const cat = await run(
      ['ssh', '-F', config, '-o', 'BatchMode=yes', alias, 'cat', `/workspaces/${p.name}/README.md`],
      env,
    );
    reportMetric('ssh through the generated ProxyCommand', Date.now() - t0, 'ms');
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, p.readme);
  });
});
