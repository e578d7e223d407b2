import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ForwardInfo } from '../../../coordinator/protocol';
import { reportMetric, requireE2eInfo, vendettaApi, type E2eInfo, type E2eWorkspace } from './hostEnv';
import { httpGet, serviceElements, startInTree, stopInTree, waitHealthy, waitListeningLines } from './treeQueries';

describe('the workspace commands against the real coordinator and the running hello workspace', function () {
  let info: E2eInfo;
  let ws: E2eWorkspace;

  before(async function () {
    info = requireE2eInfo(this);
    ws = info.workspace!;
    // The view shows (as when a person runs these from it), so the tree follows the coordinator.
    await vscode.commands.executeCommand('vendetta.nodes.focus');
    await waitHealthy(ws, 60_000);
  });

  it("Show Logs streams the hello services' lines into an output channel within seconds", async function () {
    this.timeout(60_000);
    await vendettaApi();
    const t0 = Date.now();
    await vscode.commands.executeCommand('vendetta.showWorkspaceLogs', { name: ws.name, node: ws.node });
    await waitListeningLines(ws, 10_000);
    reportMetric("Show Logs to the services' lines", Date.now() - t0, 'ms');
  });

  it("Forward Port on the web service's tree item gives a local URL that answers 200", async function () {
    this.timeout(60_000);
    const web = (await serviceElements(ws)).find((e) => e.service.name === 'web');
    assert.ok(web, 'the web service is in the tree');
    const forwarded = await vscode.commands.executeCommand<ForwardInfo | undefined>('vendetta.forwardPort', web);
    assert.ok(forwarded, 'the command returned the forward (a failure shows as a notification and returns nothing)');
    assert.equal(forwarded.port, 8080);
    assert.match(forwarded.url, /^http:\/\/(127\.0\.0\.1|localhost):\d+\/?$/);
    const res = await httpGet(forwarded.url);
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /hello/i);
  });

  it('Open Terminal in Workspace creates a terminal running ssh with the generated ssh_config', async () => {
    const terminal = await vscode.commands.executeCommand<vscode.Terminal | undefined>('vendetta.openTerminal', {
      name: ws.name,
      node: ws.node,
    });
    assert.ok(terminal, 'the command returned the terminal');
    try {
      assert.ok(vscode.window.terminals.includes(terminal));
      const opts = terminal.creationOptions as vscode.TerminalOptions;
      assert.equal(opts.shellPath, 'ssh');
      assert.deepEqual(opts.shellArgs, ['-F', join(info.home, 'ssh_config'), `${ws.name}.${ws.node}.vendetta`]);
      assert.equal(terminal.name, `${ws.name} on ${ws.node}`);
    } finally {
      terminal.dispose();
    }
  });

  it('Stop Workspace then Start Workspace: the tree shows it stopped, then running with its services healthy again', async function () {
    this.timeout(240_000);
    const t0 = Date.now();
    const stoppedEl = await stopInTree(ws, { name: ws.name, node: ws.node });
    reportMetric('Stop Workspace to stopped in the tree', Date.now() - t0, 'ms');
    const t1 = Date.now();
    // This time the tree item itself, as the context menu passes it.
    await startInTree(ws, stoppedEl);
    reportMetric('Start Workspace to services healthy in the tree', Date.now() - t1, 'ms');
  });
});
