import assert from 'node:assert/strict';
import type { NodeSummary } from '../../../coordinator/protocol';
import {
  nodeNameOf,
  nodeNameProblem,
  parseHostPort,
  preferredNode,
  userProblem,
  workspaceTargetOf,
} from '../../../extension/commands/targets';

const n = (name: string): NodeSummary => ({
  name,
  host: 'h',
  port: 22,
  user: 'u',
  transport: name === 'local' ? 'local' : 'ssh',
  status: 'online',
  latencyMs: 1,
  agentVersion: null,
  providers: null,
  lastSeen: null,
});

describe('commands take a tree item, a name or nothing', () => {
  it('finds the workspace a tree item, an object or an alias names', () => {
    const w = {
      name: 'shop',
      node: 'b1',
      provider: 'docker',
      state: 'running',
      sshHost: 'shop.b1.vendetta',
      createdAt: '',
      workspaceFolder: '/workspaces/shop',
    } as const;
    assert.deepEqual(workspaceTargetOf({ kind: 'workspace', workspace: w }), { name: 'shop', node: 'b1' });
    assert.deepEqual(
      workspaceTargetOf({ kind: 'service', workspace: w, service: { name: 'api', state: 'healthy', restarts: 0 } }),
      { name: 'shop', node: 'b1' },
    );
    assert.deepEqual(workspaceTargetOf({ name: 'shop', node: 'b1' }), { name: 'shop', node: 'b1' });
    assert.deepEqual(workspaceTargetOf('shop.b1.vendetta'), { name: 'shop', node: 'b1' });
    assert.deepEqual(workspaceTargetOf('shop'), { name: 'shop' });
    assert.equal(workspaceTargetOf(undefined), undefined);
    assert.equal(workspaceTargetOf({ kind: 'node', node: n('b1') }), undefined);
  });

  it('finds the node a tree item or a name names', () => {
    assert.equal(nodeNameOf({ kind: 'node', node: n('b1') }), 'b1');
    assert.equal(nodeNameOf('b2'), 'b2');
    assert.equal(nodeNameOf(undefined), undefined);
  });

  it("suggests the config's node, else the default node setting, else local", () => {
    const nodes = [n('local'), n('b1'), n('b2')];
    assert.equal(preferredNode(nodes, 'b2', 'b1'), 'b2');
    assert.equal(preferredNode(nodes, undefined, 'b1'), 'b1');
    assert.equal(preferredNode(nodes, 'gone', ''), 'local');
    assert.equal(preferredNode([n('b1')], undefined, undefined), 'b1');
  });
});

describe('Add Node checks what is typed before anything is sent', () => {
  it('a node name: the pattern, not local, not taken', () => {
    assert.equal(nodeNameProblem('build-1', new Set()), undefined);
    assert.match(nodeNameProblem('Build', new Set()) ?? '', /Lowercase/);
    assert.match(nodeNameProblem('local', new Set()) ?? '', /built-in/);
    assert.match(nodeNameProblem('b1', new Set(['b1'])) ?? '', /already exists/);
  });

  it('a host with an optional port, IPv6 in brackets', () => {
    assert.deepEqual(parseHostPort('build-1.example.com'), { host: 'build-1.example.com' });
    assert.deepEqual(parseHostPort(' 10.0.0.5:2222 '), { host: '10.0.0.5', port: 2222 });
    assert.deepEqual(parseHostPort('[fd00::5]:2200'), { host: 'fd00::5', port: 2200 });
    assert.deepEqual(parseHostPort('fd00::5'), { host: 'fd00::5' });
    assert.ok('problem' in parseHostPort('h:70000'));
    assert.ok('problem' in parseHostPort('dev@h'));
    assert.ok('problem' in parseHostPort('-oProxyCommand=x'));
    assert.ok('problem' in parseHostPort(''));
  });

  it('a user name', () => {
    assert.equal(userProblem('dev'), undefined);
    assert.ok(userProblem('a b'));
  });
});
