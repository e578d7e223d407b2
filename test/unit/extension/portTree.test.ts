import assert from 'node:assert/strict';
import type { PortInfo, WorkspaceSummary } from '../../../coordinator/protocol';
import { COMMAND } from '../../../extension/commands/ids';
import { autoForwardSteps } from '../../../extension/views/nodes/autoForward';
import { CONTEXT_VALUES } from '../../../extension/views/nodes/nodeTreeModel';
import { portItem, shownPorts } from '../../../extension/views/nodes/portTreeModel';

const w: WorkspaceSummary = {
  name: 'shop',
  node: 'build-1',
  provider: 'docker',
  state: 'running',
  sshHost: 'shop.build-1.vendetta',
  createdAt: '2025-01-01T00:00:00Z',
  workspaceFolder: '/workspaces/shop',
};
const detected = (port: number, over: Partial<PortInfo> = {}): PortInfo => ({
  source: 'detected',
  port,
  listening: true,
  ...over,
});

describe('ports in the Remote Nodes tree', () => {
  it('shows forwardPorts and detected ports (service ports are on their service), hides onAutoForward ignore', () => {
    const rows: PortInfo[] = [
      {
        source: 'service',
        service: 'web',
        port: 8080,
        nodePort: 41000,
        url: 'http://127.0.0.1:41000',
        health: 'healthy',
      },
      { source: 'forwardPorts', port: 9229, listening: false },
      detected(8765, { label: 'Scratch server' }),
      detected(5000, { onAutoForward: 'ignore' }),
    ];
    assert.deepEqual(
      shownPorts(rows).map((p) => p.port),
      [9229, 8765],
    );
  });

  it('a detected port offers Forward; a forwarded one opens on a click; each contextValue is one package.json matches', () => {
    const fresh = portItem(w, detected(8765, { label: 'Scratch server' }));
    assert.deepEqual(
      [fresh.id, fresh.label, fresh.description, fresh.contextValue, fresh.command],
      ['port:build-1/shop/8765', ':8765', 'Scratch server · detected · listening', 'detectedPort', undefined],
    );
    assert.match(fresh.tooltip, /\*\*Scratch server\*\* \(port 8765\) in shop/);
    const fwd = portItem(w, detected(8765, { localPort: 18765, url: 'http://127.0.0.1:18765' }));
    assert.deepEqual([fwd.description, fwd.contextValue], ['detected · → 127.0.0.1:18765', 'forwardedPort']);
    assert.equal(fwd.command?.command, COMMAND.openServiceUrl);
    const cfg = portItem(w, { source: 'forwardPorts', service: 'web', port: 9229, listening: false });
    assert.deepEqual([cfg.description, cfg.contextValue], ['forwardPorts (web) · not listening', 'configuredPort']);
    const lo = portItem(w, detected(5173, { loopbackOnly: true }));
    assert.equal(lo.description, 'detected · listening on 127.0.0.1 only');
    assert.match(lo.tooltip, /make it listen on 0\.0\.0\.0/);
    for (const item of [fresh, fwd, cfg, lo]) assert.ok(CONTEXT_VALUES.includes(item.contextValue));
  });

  it('onAutoForward: a port that starts listening is offered (notify, the default), opened, previewed, or left alone', () => {
    const rows = [
      detected(3000),
      detected(3001, { onAutoForward: 'openBrowser' }),
      detected(3002, { onAutoForward: 'openBrowserOnce' }),
      detected(3003, { onAutoForward: 'openPreview' }),
      detected(3004, { onAutoForward: 'silent' }),
      detected(3005, { onAutoForward: 'ignore' }),
      detected(3006, { loopbackOnly: true }),
      detected(3007, { localPort: 3007 }),
      detected(3008),
      { source: 'forwardPorts', port: 3009, listening: true } as PortInfo,
    ];
    assert.deepEqual(autoForwardSteps(undefined, rows, new Set()), [], 'the first look: nothing is new');
    assert.deepEqual(
      autoForwardSteps(new Set([3008]), rows, new Set([3002])).map((s) => [s.port.port, s.action]),
      [
        [3000, 'notify'],
        [3001, 'openBrowser'],
        [3003, 'openPreview'],
      ],
    );
    assert.deepEqual(
      autoForwardSteps(new Set(), [detected(3002, { onAutoForward: 'openBrowserOnce' })], new Set()).map(
        (s) => s.action,
      ),
      ['openBrowser'],
    );
  });
});
