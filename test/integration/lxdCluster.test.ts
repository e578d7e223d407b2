/**
 * A node whose LXD is a 3-member cluster (test/infra/lxdCluster.ts): the built CLI on the local
 * node in m1's network namespace, the real OpenSSH client. Two workspace lives cover it all: one
 * placed on m2 by `lxc.target`, one placed by LXD; both reached over SSH and their service port
 * through the one node (m1), though m2's loopback is out of m1's reach; `node status` lists the
 * members; a command cancelled while it runs ends at once and leaves no process; m2 stopped marks its workspace `error` with the reason, loses nothing, and it answers
 * again once m2 is back; rm leaves nothing on any member.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeStatus, WorkspaceStatus, WorkspaceSummary, WorkspaceUpResult } from '../../coordinator/protocol';
import { clusterChildren, memberItem, nodeChildren } from '../../extension/views/nodes/clusterTreeModel';
import type { ItemSpec, TreeElement } from '../../extension/views/nodes/nodeTreeModel';
import { AgentError } from '../../agent/errors';
import { lxdExec } from '../../agent/providers/lxc/exec';
import { startLxdCluster, type LxdCluster } from '../infra/lxdCluster';
import { TEST_LXD_IMAGE } from '../infra/lxd';
import { requireRoot } from '../infra/sys';
import { createCliHome, type CliHome, type CliResult } from './coordinatorHarness';
import { httpGetScript, startLive, type LiveCommand } from './servicesHarness';
import { commandsIn, type WorkspaceEnv } from './workspaceHarness';

function parse<T>(r: CliResult, what: string): T {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** A project whose one service answers HTTP with its project's marker file. */
function project(h: CliHome, name: string, target: string | undefined): string {
  const dir = join(h.dir, 'projects', name);
  mkdirSync(join(dir, '.vendetta'), { recursive: true });
  writeFileSync(join(dir, 'marker.txt'), `${name}\n`);
  writeFileSync(
    join(dir, '.vendetta', 'config.yaml'),
    [
      `name: ${name}`,
      'provider: lxc',
      'lxc:',
      `  image: ${TEST_LXD_IMAGE}`,
      ...(target ? [`  target: ${target}`] : []),
      'services:',
      '  web:',
      `    command: node -e "require('http').createServer((q, s) => s.end('hello from ' + require('fs').readFileSync('/workspaces/${name}/marker.txt'))).listen(8080, '127.0.0.1')"`,
      '    port: 8080',
      '    healthcheck: { tcp: 8080, interval: 500ms, timeout: 1s, retries: 40 }',
      '',
    ].join('\n'),
  );
  return dir;
}

describe('an LXD cluster behind one node: placement, SSH and services through LXD, members, a member offline', function () {
  let cluster: LxdCluster | undefined;
  let h: CliHome;
  let env: Pick<WorkspaceEnv, 'cli' | 'run' | 'ssh'>;
  let nsenter: string[];
  const live: LiveCommand[] = [];
  const numbers: Record<string, number> = {};
  const member = (name: string) => cluster!.members.find((m) => m.name === name)!;
  /** Where LXD itself says each of our instances is. */
  const locations = async () => {
    const r = await member('m1').client.json({
      method: 'GET',
      path: '/1.0/instances',
      query: { recursion: 1 },
      accept: [200],
      what: 'list',
    });
    return Object.fromEntries(
      (r.value as { metadata: Array<{ name: string; location: string }> }).metadata.map((i) => [i.name, i.location]),
    );
  };
  /** `workspace up`; a failure says where LXD put the instance and what the agent logged last. */
  const up = async (ws: string, target: string | undefined): Promise<WorkspaceUpResult> => {
    const r = await env.cli(['workspace', 'up', project(h, ws, target), '--json'], { timeoutMs: 280_000 });
    if (r.code === 0) return JSON.parse(r.stdout) as WorkspaceUpResult;
    const where = await locations().catch((err: Error) => err.message);
    assert.fail(`up ${ws} exited ${r.code}: ${r.stderr}\nlocations: ${JSON.stringify(where)}\n${agentLogTail()}`);
  };
  /** The local agent's last log lines, for a failure's message. */
  const agentLogTail = (): string => {
    try {
      const lines = readFileSync(join(h.home, 'local-agent', 'logs', 'agent.log'), 'utf8').split('\n');
      return `agent log:\n${lines.slice(-40).join('\n')}`;
    } catch {
      return '(no agent log)';
    }
  };
  const status = async (ws: string) =>
    parse<WorkspaceStatus>(await env.cli(['workspace', 'status', ws, '--json']), `status ${ws}`);
  const memberState = async (name: string) => {
    const r = await member('m1').client.json({
      method: 'GET',
      path: `/1.0/cluster/members/${name}`,
      accept: [200],
      what: 'member',
    });
    return (r.value as { metadata: { status: string } }).metadata.status;
  };
  /** The member rows the Remote Nodes view shows under the node, from `node status --json` and `workspace list --json`. */
  const treeMembers = async (): Promise<ItemSpec[]> => {
    const nodes = parse<NodeStatus[]>(await env.cli(['node', 'status', '--json']), 'node status');
    const list = parse<WorkspaceSummary[]>(await env.cli(['workspace', 'list', '--json']), 'list');
    const [group] = nodeChildren(nodes.find((n) => n.name === 'local')!, list);
    assert.equal(group?.kind, 'cluster', JSON.stringify(nodes));
    return clusterChildren(group as Extract<TreeElement, { kind: 'cluster' }>, list).map((e) =>
      memberItem(e as Extract<TreeElement, { kind: 'member' }>),
    );
  };
  const until = async (what: string, ms: number, fn: () => Promise<boolean>) => {
    const end = Date.now() + ms;
    while (!(await fn())) {
      if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  /** An HTTP GET through `workspace forward` (the node's link to the service's node port). */
  const forwardGet = async (ws: string) => {
    const fwd = startLive(
      [...nsenter, process.execPath, join(h.dir, 'bin', 'vendetta.js'), 'workspace', 'forward', ws, '8080'],
      {
        ...process.env,
        VENDETTA_HOME: h.home,
        LXD_DIR: member('m1').dir,
        SSH_AUTH_SOCK: '',
      },
    );
    live.push(fwd);
    const { match } = await fwd.waitFor(/^Forwarding http:\/\/127\.0\.0\.1:(\d+) → /m, 30_000);
    const page = JSON.parse((await env.run(httpGetScript(`http://127.0.0.1:${match[1]}/`))).stdout || '{}') as {
      status?: number;
      body?: string;
    };
    await fwd.stop('SIGINT');
    return page;
  };

  before(async function () {
    requireRoot(this, 'the LXD cluster suite');
    this.timeout(600_000);
    const t0 = Date.now();
    cluster = await startLxdCluster();
    numbers.clusterFormedMs = Date.now() - t0;
    h = createCliHome();
    nsenter = member('m1').nsenter;
    env = commandsIn(h, nsenter, { LXD_DIR: member('m1').dir, LXD_CONF: member('m1').env.LXD_CONF });
  });

  after(async function () {
    this.timeout(180_000);
    for (const c of live) await c.stop('SIGKILL').catch(() => undefined);
    await h?.cleanup();
    await cluster?.stop();
    console.log(`    measured on the cluster: ${JSON.stringify(numbers)}`);
  });

  it('lxc.target places on m2, LXD places the other; both answer SSH and HTTP through m1; node status lists the members', async function () {
    this.timeout(400_000);
    let t = Date.now();
    const pinned = await up('pinned', 'm2');
    numbers.upOnM2Ms = Date.now() - t;
    assert.equal(pinned.state, 'running');
    assert.deepEqual(
      pinned.services?.map((s) => [s.name, s.state]),
      [['web', 'healthy']],
      'the health check reached the service on m2 through the relay',
    );
    t = Date.now();
    const placed = await up('placed', undefined);
    numbers.upPlacedByLxdMs = Date.now() - t;
    assert.equal(placed.state, 'running');

    const where = await locations();
    assert.equal(where['vendetta-pinned'], 'm2', JSON.stringify(where));
    assert.ok(where['vendetta-placed'], JSON.stringify(where));
    assert.equal((await status('pinned')).member, 'm2', 'the record keeps the member');
    assert.equal((await status('placed')).member, where['vendetta-placed'], "LXD's choice is recorded");
    assert.match((await env.cli(['workspace', 'status', 'pinned'])).stdout, /^member +m2 \(LXD cluster\)$/m);

    for (const ws of ['pinned', 'placed']) {
      const cat = await env.ssh(`${ws}.local.vendetta`, ['cat', `/workspaces/${ws}/marker.txt`]);
      assert.deepEqual([cat.code, cat.stdout], [0, `${ws}\n`], `${ws}: ${cat.stderr}`);
      const exit = await env.cli(['workspace', 'exec', ws, '--', 'sh', '-c', 'exit 3']);
      assert.equal(exit.code, 3, `${ws}: exec exited ${exit.code}: ${exit.stderr}\n${agentLogTail()}`);
      const page = await forwardGet(ws);
      assert.deepEqual([page.status, page.body], [200, `hello from ${ws}\n`], JSON.stringify(page));
    }
    // A command cancelled while it runs (`sleep 60`, cancelled after 1 s) ends at once and leaves no process.
    const root = { uid: 0, gid: 0, home: '/root' };
    const instance = 'vendetta-placed';
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 1_000);
    t = Date.now();
    await assert.rejects(
      lxdExec(member('m1').client, instance, ['sleep', '60'], root, { timeoutMs: 0, signal: ac.signal }),
      (e: unknown) => e instanceof AgentError && e.code === 'PROVIDER_ERROR' && /was cancelled/.test(e.message),
    );
    numbers.cancelledExecEndedMs = Date.now() - t;
    assert.ok(numbers.cancelledExecEndedMs < 6_000, `the cancelled sleep took ${numbers.cancelledExecEndedMs} ms`);
    const comms = await lxdExec(member('m1').client, instance, ['sh', '-c', 'cat /proc/[0-9]*/comm'], root);
    assert.ok(!comms.stdout.split('\n').includes('sleep'), `a sleep is left in ${instance}: ${comms.stdout}`);

    t = Date.now();
    const relayed = await env.ssh('pinned.local.vendetta', ['true']);
    if (relayed.code !== 0) {
      // What the relay's node port says first, for the failure's message (it should be SSH-2.0-…).
      const port = (await status('pinned')).ssh?.port ?? 0;
      const js = `const c=require('net').connect(${port},'127.0.0.1');let b=Buffer.alloc(0);c.on('data',(d)=>{b=Buffer.concat([b,d]);if(b.length>=120)c.destroy();});c.on('close',()=>process.stdout.write(JSON.stringify(b.toString('latin1'))));c.on('error',(e)=>process.stdout.write(e.message));setTimeout(()=>c.destroy(),5000);`;
      const first = (await env.run([process.execPath, '-e', js])).stdout;
      assert.fail(`ssh through the relay: ${relayed.stderr}\nport ${port} answers: ${first}\n${agentLogTail()}`);
    }
    numbers.sshRoundTripThroughRelayMs = Date.now() - t;

    const nodes = parse<NodeStatus[]>(await env.cli(['node', 'status', '--json']), 'node status');
    const members = nodes.find((n) => n.name === 'local')?.providers?.lxc.cluster;
    assert.deepEqual(
      members?.map((m) => [m.name, m.status]),
      [
        ['m1', 'Online'],
        ['m2', 'Online'],
        ['m3', 'Online'],
      ],
      JSON.stringify(nodes),
    );
    assert.equal(members?.find((m) => m.name === 'm2')?.instances, where['vendetta-placed'] === 'm2' ? 2 : 1);
    assert.ok(
      members?.every((m) => m.roles.includes('database')),
      JSON.stringify(members),
    );
    assert.match(
      (await env.cli(['node', 'status'])).stdout,
      /^local: LXD cluster of 3\n {2}m1 {2}online {2}\d instances? {2}\S*database/m,
    );
    const rows = await treeMembers();
    assert.deepEqual(
      rows.map((r) => [r.label, r.contextValue]),
      [
        ['m1', 'onlineMember'],
        ['m2', 'onlineMember'],
        ['m3', 'onlineMember'],
      ],
    );
    assert.match(rows[1]!.tooltip, /^- workspaces here: .*pinned \(running\)/m, 'the tree puts pinned under m2');
  });

  it('m2 stopped: its workspace shows error naming m2, the other still answers, nothing is lost; back, it answers again', async function () {
    this.timeout(300_000);
    const onM2 = (await locations())['vendetta-placed'] === 'm2' ? ['pinned', 'placed'] : ['pinned'];
    const elsewhere = ['pinned', 'placed'].filter((w) => !onM2.includes(w));
    const note = await env.cli(['workspace', 'exec', 'pinned', '--', 'sh', '-c', 'echo kept > /root/note']);
    assert.equal(note.code, 0, `exec exited ${note.code}: ${note.stderr}\n${agentLogTail()}`);
    await cluster!.stopMember('m2');
    try {
      const t = Date.now();
      await until('m2 is offline', 90_000, async () => (await memberState('m2')) === 'Offline');
      numbers.memberOfflineAfterMs = Date.now() - t;
      const list = parse<WorkspaceSummary[]>(await env.cli(['workspace', 'list', '--json']), 'list');
      for (const ws of onM2) {
        const row = list.find((w) => w.name === ws);
        assert.equal(row?.state, 'error', JSON.stringify(row));
        assert.match(row?.error?.message ?? '', /cluster member m2 that runs the instance vendetta-\w+ is offline/);
      }
      // The tree shows m2 down with LXD's reason, and still knows pinned is there.
      const m2Row = (await treeMembers()).find((r) => r.label === 'm2')!;
      assert.equal(m2Row.contextValue, 'unavailableMember');
      assert.match(m2Row.description ?? '', /^offline · /);
      assert.match(m2Row.tooltip, /^- workspaces here: .*pinned \(error\)/m);
      const ssh = await env.ssh('pinned.local.vendetta', ['true']);
      assert.equal(ssh.code, 255);
      assert.match(ssh.stderr, /^error: .*cluster member m2 .*offline/m);
      assert.match(ssh.stderr, /\(Bring LXD on m2 back into the cluster/, 'with the hint');
      for (const ws of elsewhere) {
        const cat = await env.ssh(`${ws}.local.vendetta`, ['cat', `/workspaces/${ws}/marker.txt`]);
        assert.equal(cat.stdout, `${ws}\n`, `${ws} is on another member and still answers: ${cat.stderr}`);
      }
    } finally {
      await cluster!.startMember('m2');
    }
    await until('m2 is online', 90_000, async () => (await memberState('m2')) === 'Online');
    const back = await env.ssh('pinned.local.vendetta', ['cat', '/root/note']);
    assert.equal(back.stdout, 'kept\n', back.stderr);
    assert.equal((await status('pinned')).state, 'running');
  });

  // One rm (the relayed workspace's): the other goes with the cluster, to spare CI a second stop.
  it('rm of the workspace on m2 leaves no instance there and nothing listening on its relayed node port', async function () {
    this.timeout(120_000);
    const sshPort = (await status('pinned')).ssh!.port;
    assert.equal((await env.cli(['workspace', 'rm', 'pinned', '--force'])).code, 0);
    assert.equal((await locations())['vendetta-pinned'], undefined);
    const probe = `require('net').connect(${sshPort}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))`;
    assert.equal((await env.run([process.execPath, '-e', probe])).code, 1, 'the relay is closed');
  });
});
