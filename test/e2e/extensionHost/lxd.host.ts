import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ForwardInfo } from '../../../coordinator/protocol';
import { reportMetric, requireE2eInfo, run, vendettaApi, type E2eWorkspace } from './hostEnv';
import {
  assertHelloServiceRows,
  assertLocalNodeOffers,
  assertRunningRow,
  httpGet,
  serviceElements,
  startInTree,
  stopInTree,
  waitForwardShown,
  waitHealthy,
  workspaceElement,
} from './treeQueries';

/** Our instance's state as LXD itself reports it (the `lxc` client; LXD_DIR/LXD_CONF come with code-server's env). */
async function instanceStatus(workspace: string): Promise<string | undefined> {
  const r = await run(['lxc', 'list', '--format', 'json'], process.env);
  assert.equal(r.code, 0, `lxc list: ${r.stderr}`);
  const all = JSON.parse(r.stdout) as Array<{ status: string; config: Record<string, string> }>;
  return all.find((i) => i.config['user.vendetta.workspace'] === workspace)?.status;
}

describe("an LXD workspace in the Remote Nodes tree: examples/hello with provider lxc on the local node's LXD", function () {
  let ws: E2eWorkspace;

  before(async function () {
    const info = requireE2eInfo(this);
    assert.ok(info.lxcWorkspace, 'the node side brought up no LXC workspace (test/e2e/lxdWorkspace.ts)');
    ws = info.lxcWorkspace;
    await vscode.commands.executeCommand('vendetta.nodes.focus');
  });

  it('shows the local node with lxc among its providers, the workspace under it running on lxc, and its services healthy with their ports', async function () {
    this.timeout(180_000);
    await assertLocalNodeOffers(ws, 'lxc');
    await assertRunningRow(ws, 'lxc', /\S*\/lxc\/projects\/hello/);

    const t0 = Date.now();
    await waitHealthy(ws, 120_000);
    reportMetric('LXC workspace services healthy in the tree', Date.now() - t0, 'ms');
    await assertHelloServiceRows(ws);
  });

  it("Forward Port on its web service's tree item gives a local URL that answers 200 from inside the LXD instance, and the row shows the forward", async function () {
    this.timeout(90_000);
    const web = (await serviceElements(ws)).find((e) => e.service.name === 'web');
    assert.ok(web, 'the web service is in the tree');
    const forwarded = await vscode.commands.executeCommand<ForwardInfo | undefined>('vendetta.forwardPort', web);
    assert.ok(forwarded, 'the command returned the forward (a failure shows as a notification and returns nothing)');
    assert.deepEqual([forwarded.workspace, forwarded.port], [ws.name, 8080]);
    const res = await httpGet(forwarded.url);
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /hello/i);
    await waitForwardShown(ws, 'web', forwarded.localPort);
  });

  it('Stop Workspace then Start Workspace on its tree item: LXD stops and starts the instance, and the tree shows it stopped with no services, then running with them healthy', async function () {
    this.timeout(240_000);
    const { tree } = await vendettaApi();
    const el = await workspaceElement(ws);
    assert.ok(el, `${ws.name} is in the tree`);
    const t0 = Date.now();
    const stoppedEl = await stopInTree(ws, el);
    reportMetric('Stop Workspace (lxc) to stopped in the tree', Date.now() - t0, 'ms');
    const item = tree.getTreeItem(stoppedEl);
    assert.equal(item.collapsibleState, vscode.TreeItemCollapsibleState.None);
    assert.match(String(item.description), /^stopped · lxc · /);
    assert.equal(await instanceStatus(ws.name), 'Stopped');

    const t1 = Date.now();
    await startInTree(ws, stoppedEl);
    reportMetric('Start Workspace (lxc) to services healthy in the tree', Date.now() - t1, 'ms');
    assert.equal(await instanceStatus(ws.name), 'Running');
  });
});
