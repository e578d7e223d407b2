import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TreeElement } from '../../../extension/views/nodes/nodeTreeModel';
import { requireE2eInfo, run, vendettaApi, waitFor, type E2eInfo } from './hostEnv';

const label = (item: vscode.TreeItem) => (typeof item.label === 'string' ? item.label : (item.label?.label ?? ''));

describe('the Remote Nodes tree against a real coordinator and real nodes', function () {
  let info: E2eInfo;
  before(function () {
    info = requireE2eInfo(this);
  });

  it('shows both SSH nodes online (and the built-in local node)', async () => {
    const { tree } = await vendettaApi();
    // The first look at the tree connects the extension to the coordinator, which it starts
    // itself (none runs): its bundled CLI, under the runtime it found.
    await tree.getChildren();
    // That coordinator has not reached the nodes yet (they show as unknown): a second client of
    // it (the CLI) asks each node for its status.
    const status = await run([process.execPath, info.cli, 'node', 'status', '--json'], { ...process.env, VENDETTA_HOME: info.home });
    assert.equal(status.code, 0, status.stderr);
    const roots = await waitFor('the tree to list the nodes online', 60_000, async () => {
      tree.invalidate();
      const r = await tree.getChildren();
      // A coordinator that just started knows the nodes before it has reached them.
      const online = r.filter((e) => e.kind === 'node' && e.node.status === 'online').map((e) => (e.kind === 'node' ? e.node.name : ''));
      return info.nodes.every((n) => online.includes(n.name)) ? r : undefined;
    });
    for (const n of info.nodes) {
      const el = roots.find((e) => e.kind === 'node' && e.node.name === n.name)!;
      const item = tree.getTreeItem(el);
      assert.equal(label(item), n.name);
      assert.equal(item.contextValue, 'onlineNode', `${n.name}: ${String(item.description)}`);
      assert.match(String(item.description), /^online · [\d.]+ ms · .*docker/);
    }
    assert.ok(roots.some((e) => e.kind === 'node' && e.node.name === 'local'));
  });

  it('shows the running workspace under its node, and its services under it', async () => {
    const { tree } = await vendettaApi();
    const ws = info.workspace!;
    const roots = await tree.getChildren();
    const node = roots.find((e) => e.kind === 'node' && e.node.name === ws.node)!;
    const children = await tree.getChildren(node);
    const wsEl = children.find((e) => e.kind === 'workspace' && e.workspace.name === ws.name);
    assert.ok(wsEl, `workspaces under ${ws.node}: ${children.map((c) => (c.kind === 'workspace' ? c.workspace.name : c.kind)).join(', ')}`);
    const wsItem = tree.getTreeItem(wsEl);
    assert.equal(label(wsItem), ws.name);
    assert.equal(wsItem.contextValue, 'runningWorkspace');
    const services = await waitFor('the services to be listed', 60_000, async () => {
      const s: TreeElement[] = await tree.getChildren(wsEl);
      const names = s.filter((e) => e.kind === 'service').map((e) => (e.kind === 'service' ? e.service.name : ''));
      if (ws.services.every((n) => names.includes(n))) return s;
      tree.invalidate();
      await tree.getChildren();
      return undefined;
    }).catch(async (err: Error) => {
      const s = await tree.getChildren(wsEl);
      throw new Error(`${err.message}; the workspace shows: ${s.map((e) => label(tree.getTreeItem(e))).join(', ')}`);
    });
    for (const el of services) {
      if (el.kind !== 'service') continue;
      const item = tree.getTreeItem(el);
      assert.equal(label(item), el.service.name);
      assert.match(String(item.contextValue), /Service$/);
    }
  });
});
