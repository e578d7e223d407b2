/**
 * Issue-17 benchmark: `node add --install-runtime upload` on a node with no Node.js (the
 * coordinator's own ~100 MB binary uploaded, verified, proven, then the agent installed and
 * started) beside OpenSSH's `scp` of the same file to the same node, in the same run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinatorClient } from '../../coordinator/cli/client';
import { homePaths } from '../../coordinator/home';
import { AddNode, CoordinatorShutdown, RemoveNode } from '../../coordinator/protocol';
import { createTestNodes, type TestNode } from '../infra/nodes';
import { commandExists } from '../infra/sys';
import { median, result, timeMs, type Benchmark } from './harness';

const RUNS = 5;

function scpRuntime(node: TestNode, knownHosts: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(
    'scp',
    [
      '-q',
      '-i',
      node.identity,
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=accept-new',
      '-o',
      'IdentitiesOnly=yes',
      process.execPath,
      `${node.user}@${node.host}:scp-node-copy`,
    ],
    { stdio: 'pipe' },
  );
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`scp to ${node.host} failed: ${r.stderr.toString()}`);
  return ms;
}

export const nodeAddRuntimeUpload: Benchmark = {
  name: 'node-add-runtime-upload',
  requires: () =>
    process.getuid?.() !== 0
      ? 'needs root (network namespaces, Unix users)'
      : ['scp', 'sshd', 'ip'].some((c) => !commandExists(c) && !commandExists(`/usr/sbin/${c}`))
        ? 'needs scp, sshd, ip (test/infra/setup.sh installs them)'
        : undefined,
  async run() {
    const net = await createTestNodes({ count: 1, label: 'bench-runtime' });
    const home = mkdtempSync(join(tmpdir(), 'vendetta-bench-runtime-'));
    const paths = homePaths(home);
    const node = net.nodes[0]!;
    let client: CoordinatorClient | undefined;
    try {
      net.stopSshd(0);
      await net.startSshd(0, { nodeJs: 'missing' });
      client = await CoordinatorClient.connect({ paths, clientName: 'vendetta-bench' });
      const c = client;
      const add = () =>
        c.request(AddNode, {
          name: node.name,
          host: node.host,
          port: node.port,
          user: node.user,
          identity: node.identity,
          acceptNewHostKey: true,
          installRuntime: 'upload',
        });
      const adds: number[] = [];
      const scps: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        // Interleaved, so a noisy moment of the shared machine falls on both sides alike.
        scps.push(scpRuntime(node, join(home, 'scp_known_hosts')));
        net.exec(0, ['rm', '-f', 'scp-node-copy'], { asUser: true });
        const ms = await timeMs(async () => {
          const r = await add();
          if (r.runtimeInstalled?.how !== 'upload') throw new Error('node add did not upload the runtime');
        });
        adds.push(ms);
        // Purge: the agent and its uploaded runtime go, so the next add starts from nothing again.
        await c.request(RemoveNode, { name: node.name, purge: true });
      }
      return [
        result(
          'node-add-runtime-upload',
          median(adds),
          'ms',
          'openssh-scp-same-runtime',
          median(scps),
          1.5,
          `node add (host key, auth, facts, ${Math.round(Number(spawnSync('stat', ['-c', '%s', process.execPath]).stdout.toString()) / 1e6)} MB upload + sha256 + --version, agent install and start) vs scp of ${process.execPath}; medians of ${RUNS}`,
        ),
      ];
    } finally {
      await client?.request(CoordinatorShutdown).catch(() => undefined);
      client?.dispose();
      await net.destroy();
      rmSync(home, { recursive: true, force: true });
    }
  },
};
