import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { instanceCreateBody, proxyDevices, RELAY_KEY } from '../../../agent/providers/lxc/api';
import { memberDown } from '../../../agent/providers/lxc/cluster';
import { clusterFrom } from '../../../agent/providers/lxc/detect';
import { parseClusterMembers, parseInstance, parseRelayPlan } from '../../../agent/providers/lxc/parse';
import { serviceConnectorArgv } from '../../../agent/providers/lxc/relay';
import { formatNodeStatus } from '../../../coordinator/cli/nodeTables';
import type { NodeStatus } from '../../../coordinator/protocol';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(join(__dirname, '../../fixtures/agent', name), 'utf8'));
const body = (name: string) => JSON.stringify(fixture(name));

const input = {
  workspace: 'shop',
  lxc: { image: 'debian/12' },
  source: { type: 'image', fingerprint: 'abc' },
  nodeFolder: '/n/shop',
  workspaceFolder: '/workspaces/shop',
  env: {},
  labels: {},
  sshNodePort: 41022,
  ports: [{ guestPort: 8080, nodePort: 18080 }],
  mapping: { kind: 'mapped-owner' } as const,
};

describe('an LXD cluster behind one node, as data (replies recorded from a 3-member LXD 5.0.2 cluster)', () => {
  it('on a cluster, the node ports wait in the relay plan instead of proxy devices; proxyDevices wires them', () => {
    const sshd = ['/usr/sbin/sshd', '-i', '-e', '-f', '/etc/vendetta/sshd_config'];
    const b = instanceCreateBody({ ...input, relay: { sshd } });
    const devices = b.devices as Record<string, unknown>;
    assert.deepEqual(Object.keys(devices), ['vendetta-project']);
    const plan = parseRelayPlan((b.config as Record<string, string>)[RELAY_KEY]);
    assert.deepEqual(plan, { ports: { '22': 41022, '8080': 18080 }, sshd });
    assert.deepEqual(proxyDevices(plan!.ports), {
      'vendetta-ports': {
        type: 'proxy',
        listen: 'tcp:127.0.0.1:41022,18080',
        connect: 'tcp:127.0.0.1:22,8080',
        bind: 'host',
      },
    });
    // Not a cluster: proxy devices at once, no plan.
    const single = instanceCreateBody(input);
    assert.equal((single.config as Record<string, string>)[RELAY_KEY], undefined);
    assert.deepEqual(Object.keys(single.devices as object).sort(), ['vendetta-ports', 'vendetta-project']);
  });

  it('reads a relayed instance: ports from the plan, its member, the plan kept out of the labels', () => {
    const b = instanceCreateBody({ ...input, relay: { sshd: ['/usr/sbin/sshd', '-i'] } });
    const ws = parseInstance({ ...b, status: 'Running', location: 'm2', last_used_at: '2026-12-05T10:00:00Z' });
    assert.deepEqual([ws.sshPort, ws.publishedPorts, ws.member], [41022, { '22': 41022, '8080': 18080 }, 'm2']);
    assert.equal(ws.labels['dev.vendetta.relay'], undefined);
    // Wired on the agent's own member: the proxy devices win over the plan.
    const wired = parseInstance({
      ...b,
      devices: { ...(b.devices as object), ...proxyDevices({ '22': 50022 }) },
      status: 'Running',
      location: 'm1',
    });
    assert.deepEqual(wired.publishedPorts, { '22': 50022 });
  });

  it('refuses a relay plan that is not what the agent wrote', () => {
    assert.equal(parseRelayPlan('{'), undefined);
    assert.equal(parseRelayPlan('{"ports":{},"sshd":[1]}'), undefined);
    assert.deepEqual(parseRelayPlan('{"ports":{"22":0,"x":5,"80":8080},"sshd":[]}'), {
      ports: { '80': 8080 },
      sshd: [],
    });
  });

  it('reads the members and counts the instances on each; a non-cluster reply gives none', () => {
    const members = parseClusterMembers(fixture('lxd-cluster-members-m2-offline.json'));
    assert.deepEqual(
      members.map((m) => [m.name, m.status, m.roles]),
      [
        ['m1', 'Online', ['database-leader', 'database']],
        ['m2', 'Offline', ['database']],
        ['m3', 'Online', ['database']],
      ],
    );
    const counted = clusterFrom(
      { ok: true, status: 200, body: body('lxd-cluster-members-m2-offline.json') },
      { ok: true, status: 200, body: body('lxd-instances-member-offline.json') },
    );
    assert.deepEqual(
      counted?.map((m) => [m.name, m.instances]),
      [
        ['m1', 0],
        ['m2', 1],
        ['m3', 0],
      ],
    );
    assert.equal(
      clusterFrom({ ok: false, code: 'ECONNREFUSED', message: 'x' }, { ok: false, code: 'x', message: 'x' }),
      undefined,
    );
    assert.equal(
      clusterFrom({ ok: true, status: 200, body: 'not json' }, { ok: true, status: 200, body: '' }),
      undefined,
    );
  });

  it('an offline member: the error names it and LXD reason, and the hint says to bring it back', () => {
    const m2 = parseClusterMembers(fixture('lxd-cluster-members-m2-offline.json'))[1]!;
    const e = memberDown('vendetta-shop', m2);
    assert.equal(e.code, 'PROVIDER_ERROR');
    assert.match(
      e.message,
      /^The cluster member m2 that runs the instance vendetta-shop is offline \(LXD: No heartbeat for 20\.6/,
    );
    assert.match(e.hint ?? '', /Bring LXD on m2 back into the cluster/);
  });

  it('node status prints the members under the table', () => {
    const cluster = clusterFrom(
      { ok: true, status: 200, body: body('lxd-cluster-members-m2-offline.json') },
      { ok: true, status: 200, body: body('lxd-instances-member-offline.json') },
    )!;
    const node = {
      name: 'lab',
      status: 'online',
      latencyMs: 1,
      system: null,
      agentVersion: '1',
      providers: {
        docker: { available: false },
        lxc: { available: true, version: '5.0.2', cluster },
        qemu: { available: false, kvm: false },
      },
    } as unknown as NodeStatus;
    const text = formatNodeStatus([node]);
    assert.match(
      text,
      /^lab: LXD cluster of 3\n {2}m1 {2}online {2}0 instances {2}database-leader,database\n {2}m2 {2}offline {2}1 instance {2}database {2}\(No heartbeat/m,
    );
  });

  it("a service port's connector dials the instance's own loopback and keeps the client's stdin", () => {
    const [sh, flag, script] = serviceConnectorArgv(8080);
    assert.deepEqual([sh, flag], ['bash', '-c']);
    assert.match(script!, /\/dev\/tcp\/127\.0\.0\.1\/8080/);
    assert.match(script!, /cat <&0 >&3 &/, 'a background command would read /dev/null without <&0');
  });
});
