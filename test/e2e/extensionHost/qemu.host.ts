/**
 * A QEMU workspace in a real VS Code: run by the lifecycle suite's QEMU row while its VM is up
 * (test/integration/lifecycleEditor.ts), so this check boots no VM of its own. Its bundle entry is
 * qemuIndex.ts, apart from the e2e suite's index.ts.
 */
import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ForwardInfo } from '../../../coordinator/protocol';
import { httpGetScript } from '../../integration/servicesHarness';
import { reportMetric, requireE2eInfo, run, type E2eInfo } from './hostEnv';
import {
  assertHelloServiceRows,
  assertLocalNodeOffers,
  assertRunningRow,
  serviceElements,
  waitForwardShown,
  waitHealthy,
  waitListeningLines,
  workspaceElement,
} from './treeQueries';

describe('a QEMU workspace in the Remote Nodes tree: examples/hello with provider qemu, a VM on the local node', function () {
  let ws: NonNullable<E2eInfo['qemuWorkspace']>;

  before(async function () {
    const info = requireE2eInfo(this);
    assert.ok(info.qemuWorkspace, 'the node side named no QEMU workspace (test/integration/lifecycleEditor.ts)');
    ws = info.qemuWorkspace;
    await vscode.commands.executeCommand('vendetta.nodes.focus');
  });

  it('shows the local node with qemu among its providers, the workspace under it running on qemu, and its services healthy with their ports', async function () {
    this.timeout(180_000);
    await assertLocalNodeOffers(ws, 'qemu');
    await assertRunningRow(ws, 'qemu', /\S*\/projects\/hello/);
    const t0 = Date.now();
    await waitHealthy(ws, 120_000);
    reportMetric('QEMU workspace services healthy in the tree', Date.now() - t0, 'ms');
    await assertHelloServiceRows(ws);
  });

  it("Show Workspace Logs on its tree item follows the services' logs from inside the VM", async function () {
    this.timeout(90_000);
    const el = await workspaceElement(ws);
    assert.ok(el, `${ws.name} is in the tree`);
    const t0 = Date.now();
    await vscode.commands.executeCommand('vendetta.showWorkspaceLogs', el);
    await waitListeningLines(ws, 60_000);
    reportMetric("Show Logs (qemu) to the services' lines", Date.now() - t0, 'ms');
  });

  it("Forward Port on its web service's tree item gives a local URL that answers 200 from inside the VM, and the row shows the forward", async function () {
    this.timeout(120_000);
    const web = (await serviceElements(ws)).find((e) => e.service.name === 'web');
    assert.ok(web, 'the web service is in the tree');
    const forwarded = await vscode.commands.executeCommand<ForwardInfo | undefined>('vendetta.forwardPort', web);
    assert.ok(forwarded, 'the command returned the forward (a failure shows as a notification and returns nothing)');
    assert.deepEqual([forwarded.workspace, forwarded.port], [ws.name, 8080]);
    // The coordinator runs in the node's network namespace (the suite's), where the forward listens.
    const got = await run([...ws.enter, ...httpGetScript(forwarded.url)], process.env);
    assert.equal(got.code, 0, got.stderr);
    const res = JSON.parse(got.stdout) as { status: number; body: string };
    assert.equal(res.status, 200, res.body);
    assert.match(res.body, /hello/i);
    await waitForwardShown(ws, 'web', forwarded.localPort);
  });
});
