import assert from 'node:assert/strict';
import type { NodeStatus, NodeSummary, ServiceStatus, WorkspaceSummary } from '../../../coordinator/protocol';
import { COMMAND } from '../../../extension/commands/ids';
import {
  messageItem,
  nodeItem,
  serviceItem,
  showWelcome,
  sortNodes,
  workspaceDescription,
  workspaceItem,
  workspacesOf,
  workspaceTooltip,
} from '../../../extension/views/nodes/nodeTreeModel';

const providers = {
  docker: { available: true, version: '20.10.24' },
  lxc: { available: true, version: '5.0.2' },
  qemu: { available: false, kvm: false, error: 'qemu-system-x86_64 not found' },
};

function node(over: Partial<NodeSummary> = {}): NodeSummary {
  return {
    name: 'build-1',
    host: '10.0.0.5',
    port: 22,
    user: 'dev',
    transport: 'ssh',
    status: 'online',
    latencyMs: 4,
    agentVersion: '0.1.0',
    providers,
    lastSeen: '2025-01-01T00:00:00Z',
    ...over,
  };
}

function ws(over: Partial<WorkspaceSummary> = {}): WorkspaceSummary {
  return {
    name: 'shop',
    node: 'build-1',
    provider: 'docker',
    state: 'running',
    sshHost: 'shop.build-1.vendetta',
    createdAt: '2025-01-01T00:00:00Z',
    workspaceFolder: '/workspaces/shop',
    projectPath: '/home/dev/src/shop',
    ...over,
  };
}

function svc(over: Partial<ServiceStatus> = {}): ServiceStatus {
  return { name: 'api', state: 'healthy', port: 3000, nodePort: 41234, restarts: 0, ...over };
}

describe('the Remote Nodes tree shows nodes', () => {
  it('an online node: status, latency and providers in the description, green icon, onlineNode', () => {
    const item = nodeItem(node(), true);
    assert.equal(item.label, 'build-1');
    assert.equal(item.description, 'online · 4 ms · docker lxc');
    assert.deepEqual(item.icon, { id: 'vm-running', color: 'charts.green' });
    assert.equal(item.contextValue, 'onlineNode');
    assert.equal(item.collapsible, 'expanded');
    assert.equal(item.id, 'node:build-1');
  });

  it('an offline node says why, with an error-colored icon and offlineNode', () => {
    const item = nodeItem(
      node({
        status: 'offline',
        latencyMs: null,
        error: { code: 'NODE_UNREACHABLE', message: 'connect ECONNREFUSED 10.0.0.5:22', hint: 'Is sshd running?' },
      }),
      false,
    );
    assert.equal(item.description, 'offline · connect ECONNREFUSED 10.0.0.5:22');
    assert.equal(item.contextValue, 'offlineNode');
    assert.equal(item.icon.color, 'errorForeground');
    assert.equal(item.collapsible, 'none');
    assert.match(item.tooltip, /Is sshd running\?/);
  });

  it('a node in an unknown state is unknownNode; the built-in local node is localNode', () => {
    assert.equal(nodeItem(node({ status: 'unknown', latencyMs: null }), false).contextValue, 'unknownNode');
    const local = nodeItem(node({ name: 'local', transport: 'local', host: 'localhost', latencyMs: 0.4 }), false);
    assert.equal(local.contextValue, 'localNode');
    assert.equal(local.description, 'online · 0.4 ms · docker lxc');
    assert.match(local.tooltip, /this machine/);
  });

  it('the tooltip names host, agent version and, once known, the system figures', () => {
    const status: NodeStatus = {
      ...node(),
      system: {
        hostname: 'b1',
        os: 'Debian 12',
        arch: 'x64',
        kernel: '6.1.0',
        cpus: 8,
        memoryTotalBytes: 16 * 2 ** 30,
        memoryAvailableBytes: 6 * 2 ** 30,
        diskFreeBytes: 100 * 2 ** 30,
        diskTotalBytes: 200 * 2 ** 30,
        load: [0.5, 0.25, 0.1],
        uptimeSeconds: 7200,
        nodeVersion: 'v20.19.0',
      },
    };
    const t = nodeItem(status, false).tooltip;
    assert.match(t, /`dev@10\.0\.0\.5:22`/);
    assert.match(t, /agent: 0\.1\.0/);
    assert.match(t, /docker 20\.10\.24, lxc 5\.0\.2, qemu no/);
    assert.match(t, /cpus: 8, load 0\.50 0\.25 0\.10/);
    assert.match(t, /6\.0 GiB free of 16 GiB/);
    assert.match(t, /Debian 12 x64/);
  });

  it('names from the coordinator cannot inject Markdown into a tooltip', () => {
    const t = nodeItem(
      node({ error: { code: 'AGENT_ERROR', message: '[click](command:evil)' }, status: 'offline' }),
      false,
    ).tooltip;
    assert.ok(!t.includes('[click](command:evil)'));
    assert.match(t, /\\\[click\\\]\\\(command:evil\\\)/);
  });

  it('lists local first, then by name', () => {
    const sorted = sortNodes([
      node({ name: 'zeta' }),
      node({ name: 'alpha' }),
      node({ name: 'local', transport: 'local' }),
    ]).map((n) => n.name);
    assert.deepEqual(sorted, ['local', 'alpha', 'zeta']);
  });
});

describe('the Remote Nodes tree shows workspaces under their node', () => {
  it('a running workspace: state, provider and project folder; expandable for its services', () => {
    const item = workspaceItem(ws(), '/home/dev');
    assert.equal(item.description, 'running · docker · ~/src/shop');
    assert.equal(item.contextValue, 'runningWorkspace');
    assert.equal(item.collapsible, 'collapsed');
    assert.equal(item.icon.id, 'vm-running');
    assert.equal(item.id, 'workspace:build-1/shop');
    assert.match(item.tooltip, /`shop\.build-1\.vendetta`/);
  });

  it('a workspace whose last up has not finished says so beside its state and in its tooltip', () => {
    const w = ws({
      unfinished: { step: 3, total: 6, message: 'Creating shop on build-1', since: '2025-01-01T00:00:00Z' },
    });
    assert.equal(workspaceDescription(w), 'running (up unfinished) · docker · /home/dev/src/shop');
    assert.match(
      workspaceTooltip(w),
      /its last up has not finished: it reached step 3\/6 \(Creating shop on build\\-1\)/,
    );
  });

  it('a workspace stopped for being idle says so, with when, beside its state', () => {
    const at = new Date();
    at.setHours(7, 12, 0, 0);
    const w = ws({ state: 'stopped', stopped: { reason: 'idle', at: at.toISOString() } });
    assert.match(workspaceDescription(w), /^stopped \(idle since \d\d?:12( [AP]M)?\) · docker · /);
    assert.match(
      workspaceDescription(ws({ state: 'stopped', stopped: { reason: 'request', at: at.toISOString() } })),
      /^stopped · docker/,
    );
  });

  it('each state has its own contextValue and icon; only a running one expands', () => {
    const expected = {
      stopped: ['stoppedWorkspace', 'debug-stop'],
      creating: ['creatingWorkspace', 'loading~spin'],
      error: ['errorWorkspace', 'error'],
      missing: ['missingWorkspace', 'question'],
    } as const;
    for (const [state, [context, icon]] of Object.entries(expected)) {
      const item = workspaceItem(ws({ state: state as WorkspaceSummary['state'] }));
      assert.equal(item.contextValue, context);
      assert.equal(item.icon.id, icon);
      assert.equal(item.collapsible, 'none');
    }
  });

  it('a failed workspace shows its error instead of the folder', () => {
    const item = workspaceItem(
      ws({ state: 'error', error: { code: 'AGENT_ERROR', message: 'container exited (137)' } }),
    );
    assert.equal(item.description, 'error · docker · container exited (137)');
  });

  it("only the node's own workspaces, by name", () => {
    const all = [ws({ name: 'b' }), ws({ name: 'a' }), ws({ name: 'c', node: 'other' })];
    assert.deepEqual(
      workspacesOf('build-1', all).map((w) => w.name),
      ['a', 'b'],
    );
  });
});

describe('the Remote Nodes tree shows services under a running workspace', () => {
  it('a healthy service with a port opens its URL on click', () => {
    const w = ws();
    const item = serviceItem(w, svc());
    assert.equal(item.description, ':3000 · healthy');
    assert.equal(item.contextValue, 'healthyService');
    assert.equal(item.icon.id, 'pass-filled');
    assert.equal(item.command?.command, COMMAND.openServiceUrl);
    assert.deepEqual(item.command?.arguments, [{ kind: 'service', workspace: w, service: svc() }]);
  });

  it('a forwarded port shows where it is on this machine', () => {
    const item = serviceItem(ws(), svc(), {
      source: 'service',
      service: 'api',
      port: 3000,
      nodePort: 41234,
      url: 'http://127.0.0.1:3001',
      health: 'healthy',
      localPort: 3001,
    });
    assert.equal(item.description, ':3000 → 127.0.0.1:3001 · healthy');
  });

  it('unhealthy, starting and stopped services are told apart; one without a port has no click', () => {
    assert.equal(serviceItem(ws(), svc({ state: 'crashloop', exitCode: 1 })).description, ':3000 · crashloop · exit 1');
    assert.equal(serviceItem(ws(), svc({ state: 'crashloop' })).contextValue, 'unhealthyService');
    assert.equal(serviceItem(ws(), svc({ state: 'unhealthy' })).contextValue, 'unhealthyService');
    const waiting = serviceItem(ws(), svc({ state: 'waiting', reason: 'waiting for db (starting)' }));
    assert.equal(waiting.contextValue, 'startingService');
    assert.equal(waiting.description, ':3000 · waiting · waiting for db (starting)');
    const worker = serviceItem(ws(), svc({ name: 'worker', port: undefined, state: 'stopped' }));
    assert.equal(worker.contextValue, 'stoppedService');
    assert.equal(worker.command, undefined);
  });
});

describe('the Remote Nodes tree without nodes', () => {
  const local = node({ name: 'local', transport: 'local' });

  it('shows the welcome view when only the built-in node exists and nothing runs on it', () => {
    assert.equal(showWelcome([local], []), true);
    assert.equal(showWelcome([], []), true);
  });

  it('shows the tree as soon as there is a node or a workspace', () => {
    assert.equal(showWelcome([local, node()], []), false);
    assert.equal(showWelcome([local], [ws({ node: 'local' })]), false);
  });

  it('an error item opens the log and reads as one line', () => {
    const item = messageItem({
      kind: 'message',
      id: 'load-error',
      severity: 'error',
      label: 'Could not reach the coordinator',
      detail: 'connect ENOENT\n/tmp/x.sock',
      hint: 'See the log',
    });
    assert.equal(item.contextValue, 'errorMessage');
    assert.equal(item.description, 'connect ENOENT /tmp/x.sock');
    assert.equal(item.command?.command, COMMAND.showExtensionLog);
  });
});
