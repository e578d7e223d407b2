/**
 * A 3-member LXD cluster for tests (TEST-INFRA.md): three private LXDs (lxd.ts), each in a network
 * namespace of its own, joined by a bridge of their own (10.83.<id>.0/24, id = the first member's
 * LXD id) for the cluster's HTTPS traffic. The first member bootstraps and carries the cached test
 * image (images are cluster-wide); the others join with a token. Members have no NIC in their
 * instances' profile: workspaces are reached through LXD (proxy devices, exec), never by address.
 *
 *   bridge vtlb<id>   veth vtlc<memberId> (node side) ↔ eth0 in vtl<memberId>
 */
import { readdirSync } from 'node:fs';
import { importTestImage, LXD_REGISTRY, lxdInit, startLxd, type Lxd } from './lxd';
import { run } from './sys';

export interface LxdCluster {
  members: Array<Lxd & { name: string; address: string }>;
  /** Kills a member's daemon (its instances keep running) and brings it back. */
  stopMember(name: string): Promise<void>;
  startMember(name: string): Promise<void>;
  stop(): Promise<void>;
}

const bridgeOf = (id: number) => `vtlb${id}`;

/** Bridges of clusters whose first member is gone (a killed test run); lxd.ts removed the rest. */
function cleanStaleBridges(): void {
  const live = new Set(
    (() => {
      try {
        return readdirSync(LXD_REGISTRY).flatMap((f) => /^(\d+)\.json$/.exec(f)?.[1] ?? []);
      } catch {
        return [];
      }
    })(),
  );
  const links = run(['ip', '-o', 'link', 'show', 'type', 'bridge'], { allowFail: true }).stdout;
  for (const m of links.matchAll(/^\d+: (vtlb(\d+))[:@]/gm))
    if (!live.has(m[2]!)) run(['ip', 'link', 'del', m[1]!], { allowFail: true });
}

const bootstrapPreseed = (name: string, address: string) => `config:
  core.https_address: ${address}
cluster:
  server_name: ${name}
  enabled: true
storage_pools:
- name: default
  driver: dir
profiles:
- name: default
  devices:
    root: {path: /, pool: default, type: disk}
`;

const joinPreseed = (name: string, address: string, token: string) => `cluster:
  enabled: true
  server_name: ${name}
  server_address: ${address}
  cluster_token: ${token}
  member_config:
  - entity: storage-pool
    name: default
    key: source
    value: ""
`;

const lxcArgv = (lxd: Lxd, args: string[]) => [
  'env',
  ...Object.entries(lxd.env).map(([k, v]) => `${k}=${v}`),
  'lxc',
  ...args,
];

/** Forms the cluster (~15 s warm). Needs root; tears everything down again when it fails. */
export async function startLxdCluster(names: readonly string[] = ['m1', 'm2', 'm3']): Promise<LxdCluster> {
  cleanStaleBridges();
  const members: LxdCluster['members'] = [];
  let bridge: string | undefined;
  const stop = async (): Promise<void> => {
    // Reverse order: the first member last, so the others leave a cluster that still has quorum.
    for (const m of [...members].reverse()) await m.stop().catch(() => undefined);
    if (bridge) run(['ip', 'link', 'del', bridge], { allowFail: true });
  };
  try {
    for (const name of names) {
      const lxd = await startLxd({ init: false });
      const net = members[0]?.id ?? lxd.id;
      if (!bridge) {
        bridge = bridgeOf(lxd.id);
        run(['ip', 'link', 'del', bridge], { allowFail: true });
        run(['ip', 'link', 'add', bridge, 'type', 'bridge']);
        run(['ip', 'link', 'set', bridge, 'up']);
      }
      const veth = `vtlc${lxd.id}`;
      const address = `10.83.${net}.${10 + members.length + 1}`;
      run(['ip', 'link', 'del', veth], { allowFail: true });
      run(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lxd.netns]);
      run(['ip', 'link', 'set', veth, 'master', bridge, 'up']);
      run(['ip', '-n', lxd.netns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      run(['ip', '-n', lxd.netns, 'link', 'set', 'eth0', 'up']);
      const first = members[0];
      if (!first) {
        lxdInit(lxd, bootstrapPreseed(name, `${address}:8443`));
        importTestImage({ dir: lxd.dir, env: lxd.env });
      } else {
        const out = run(lxcArgv(first, ['cluster', 'add', name]), { timeoutMs: 60_000 }).stdout;
        const token = out.trim().split('\n').pop()!.trim();
        lxdInit(lxd, joinPreseed(name, `${address}:8443`, token));
      }
      members.push(Object.assign(lxd, { name, address }));
    }
    // A stopped member is called offline after 11 s instead of LXD's 20 (in the bootstrap preseed
    // this key crashes LXD 5.0.2).
    run(lxcArgv(members[0]!, ['config', 'set', 'cluster.offline_threshold', '11']), { timeoutMs: 30_000 });
  } catch (err) {
    await stop();
    throw err;
  }
  const member = (name: string) => {
    const m = members.find((x) => x.name === name);
    if (!m) throw new Error(`no cluster member ${name}`);
    return m;
  };
  return {
    members,
    stopMember: (name) => member(name).stopDaemon(),
    startMember: (name) => member(name).startDaemon(),
    stop,
  };
}
