import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TreeElement } from '../../../extension/views/nodes/nodeTreeModel';
import { requireE2eInfo, vendettaApi, waitFor, type E2eInfo } from './hostEnv';

const label = (item: vscode.TreeItem) => (typeof item.label === 'string' ? item.label : (item.label?.label ?? ''));

describe('the Remote Nodes tree against a real coordinator and real nodes', function () {
  let info: E2eInfo;
  before(function () {
    info = requireE2eInfo(this);
  });

  it('shows both SSH nodes and the built-in local node online as soon as the view shows, with no other client contacting them', async () => {
    const { tree } = await vendettaApi();
    // The first look at the tree connects the extension to the coordinator, which it starts
    // itself (none runs): its bundled CLI, under the runtime it found. That coordinator has not
    // reached the nodes yet; the view asks for their live status when it shows.
    await tree.getChildren();
    await vscode.commands.executeCommand('vendetta.nodes.focus');
    // No invalidate here: the rows the tree already holds turn online as the answers arrive.
    const roots = await waitFor('the tree to list the nodes online', 60_000, async () => {
      const r = await tree.getChildren();
      const online = r
        .filter((e) => e.kind === 'node' && e.node.status === 'online')
        .map((e) => (e.kind === 'node' ? e.node.name : ''));
      return [...info.nodes.map((n) => n.name), 'local'].every((n) => online.includes(n)) ? r : undefined;
    }).catch(async (err: Error) => {
      const r = await tree.getChildren();
      throw new Error(
        `${err.message}; the tree shows: ${r.map((e) => (e.kind === 'node' ? `${e.node.name} ${e.node.status}` : e.kind)).join(', ')}`,
      );
    });
    for (const n of info.nodes) {
      const el = roots.find((e) => e.kind === 'node' && e.node.name === n.name)!;
      const item = tree.getTreeItem(el);
      assert.equal(label(item), n.name);
      assert.equal(item.contextValue, 'onlineNode', `${n.name}: ${String(item.description)}`);
      assert.match(String(item.description), /^online · [\d.]+ ms · .*docker/);
    }
    // The coordinator connects SSH nodes by itself when it starts, but starts the local agent only
    // when asked: `local` online proves the view asked each node for its live status.
    assert.ok(roots.some((e) => e.kind === 'node' && e.node.name === 'local' && e.node.status === 'online'));
  });

  it('shows the running workspace under its node, and its services under it', async () => {
    const { tree } = await vendettaApi();
    const ws = info.workspace!;
    const roots = await tree.getChildren();
    const node = roots.find((e) => e.kind === 'node' && e.node.name === ws.node)!;
    const children = await tree.getChildren(node);
    const wsEl = children.find((e) => e.kind === 'workspace' && e.workspace.name === ws.name);
    assert.ok(
      wsEl,
      `workspaces under ${ws.node}: ${children.map((c) => (c.kind === 'workspace' ? c.workspace.name : c.kind)).join(', ')}`,
    );
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
