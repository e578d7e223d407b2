import assert from 'node:assert/strict';
import { get } from 'node:http';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ForwardInfo, WorkspaceSummary } from '../../../coordinator/protocol';
import type { TreeElement } from '../../../extension/views/nodes/nodeTreeModel';
import { reportMetric, requireE2eInfo, vendettaApi, waitFor, type E2eInfo } from './hostEnv';

type Ws = NonNullable<E2eInfo['workspace']>;

/** The status code and body of a GET. */
function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
  });
}

/** The workspace's row in the tree, as it shows now (no refetch: what the view holds). */
async function workspaceElement(ws: Ws): Promise<Extract<TreeElement, { kind: 'workspace' }> | undefined> {
  const { tree } = await vendettaApi();
  const node = (await tree.getChildren()).find((e) => e.kind === 'node' && e.node.name === ws.node);
  if (!node) return undefined;
  const el = (await tree.getChildren(node)).find((e) => e.kind === 'workspace' && e.workspace.name === ws.name);
  return el?.kind === 'workspace' ? el : undefined;
}

async function serviceElements(ws: Ws): Promise<Array<Extract<TreeElement, { kind: 'service' }>>> {
  const { tree } = await vendettaApi();
  const wsEl = await workspaceElement(ws);
  if (!wsEl) return [];
  return (await tree.getChildren(wsEl)).filter(
    (e): e is Extract<TreeElement, { kind: 'service' }> => e.kind === 'service',
  );
}

/** Until every service of the workspace shows healthy in the tree. */
async function waitHealthy(ws: Ws, ms: number): Promise<void> {
  await waitFor(`${ws.services.join(', ')} healthy in the tree`, ms, async () => {
    const s = await serviceElements(ws);
    return ws.services.every((n) => s.some((e) => e.service.name === n && e.service.state === 'healthy'))
      ? true
      : undefined;
  }).catch(async (err: Error) => {
    const s = await serviceElements(ws);
    throw new Error(
      `${err.message}; the tree shows: ${s.map((e) => `${e.service.name} ${e.service.state}`).join(', ') || 'no services'}`,
    );
  });
}

describe('the workspace commands against the real coordinator and the running hello workspace', function () {
  let info: E2eInfo;
  let ws: Ws;

  before(async function () {
    info = requireE2eInfo(this);
    ws = info.workspace!;
    // The view shows (as when a person runs these from it), so the tree follows the coordinator.
    await vscode.commands.executeCommand('vendetta.nodes.focus');
    await waitHealthy(ws, 60_000);
  });

  it("Show Logs streams the hello services' lines into an output channel within seconds", async function () {
    this.timeout(60_000);
    const api = await vendettaApi();
    const t0 = Date.now();
    await vscode.commands.executeCommand('vendetta.showWorkspaceLogs', { name: ws.name, node: ws.node });
    const lines = await waitFor('a line of each hello service in the channel', 10_000, () => {
      const l = api.logLines(ws);
      return ws.services.every((s) => l.some((x) => new RegExp(`^\\S+ ${s}\\s+.? ${s} listening on `).test(x)))
        ? l
        : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; the channel holds:\n${api.logLines(ws).join('\n')}`);
    });
    reportMetric("Show Logs to the services' lines", Date.now() - t0, 'ms');
    assert.match(lines[0]!, new RegExp(`logs of ${ws.name} on ${ws.node}, following`));
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
    const stopped = await vscode.commands.executeCommand<WorkspaceSummary | undefined>('vendetta.stopWorkspace', {
      name: ws.name,
      node: ws.node,
    });
    assert.equal(stopped?.state, 'stopped', 'Stop Workspace returned the stopped workspace');
    const stoppedEl = await waitFor('the tree to show the workspace stopped', 30_000, async () => {
      const el = await workspaceElement(ws);
      return el?.workspace.state === 'stopped' ? el : undefined;
    });
    const { tree } = await vendettaApi();
    assert.equal(tree.getTreeItem(stoppedEl).contextValue, 'stoppedWorkspace');
    reportMetric('Stop Workspace to stopped in the tree', Date.now() - t0, 'ms');

    const t1 = Date.now();
    // This time the tree item itself, as the context menu passes it.
    const started = await vscode.commands.executeCommand<WorkspaceSummary | undefined>(
      'vendetta.startWorkspace',
      stoppedEl,
    );
    assert.equal(started?.state, 'running', 'Start Workspace returned the running workspace');
    const runningEl = await waitFor('the tree to show the workspace running', 30_000, async () => {
      const el = await workspaceElement(ws);
      return el?.workspace.state === 'running' ? el : undefined;
    });
    assert.equal(tree.getTreeItem(runningEl).contextValue, 'runningWorkspace');
    await waitHealthy(ws, 120_000);
    reportMetric('Start Workspace to services healthy in the tree', Date.now() - t1, 'ms');
  });
});
