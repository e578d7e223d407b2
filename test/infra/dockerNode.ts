/**
 * SSH nodes with a Docker engine each (TEST-INFRA.md): the namespace nodes of ./nodes.ts, and in
 * every node's network namespace its own dockerd (distinct --bip), listening on the node user's
 * rootless-engine socket /run/user/<uid>/docker.sock (group: the node user's), which is where the
 * node's agent looks first when DOCKER_HOST is unset (agent/providers/docker/detect.ts). Ports a
 * workspace publishes on 127.0.0.1 are then on that node's loopback. The workspace image is imported
 * into each engine. destroy() stops the engines, then the nodes.
 */
import { chownSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startDockerd, type Dockerd } from './docker';
import { ensureTestImage, type ImageReport } from './image';
import { createTestNodes, type TestNode, type TestNodes } from './nodes';
import { run } from './sys';

export interface DockerNode extends TestNode {
  dockerd: Dockerd;
  /** /run/user/<uid>/docker.sock */
  dockerSocket: string;
  image: ImageReport;
}

export interface DockerNodes extends Omit<TestNodes, 'nodes'> {
  nodes: DockerNode[];
  /** Workspace containers (label dev.vendetta.workspace) on node i's engine, running or not. */
  containers(i: number): Promise<Array<{ Id: string; Names: string[]; Labels: Record<string, string>; State: string }>>;
}

function gidOf(user: string): number {
  return Number(run(['id', '-g', user]).stdout.trim());
}

export async function createDockerNodes(opts: { count: number; label?: string }): Promise<DockerNodes> {
  if (opts.count > 50) throw new Error('createDockerNodes: at most 50 nodes (one dockerd each)');
  const base = await createTestNodes(opts);
  const engines: Dockerd[] = [];
  const runDirs: string[] = [];
  const stopAll = async () => {
    await Promise.all(engines.map((d) => d.stop().catch(() => undefined)));
    for (const d of runDirs) rmSync(d, { recursive: true, force: true });
    await base.destroy();
  };
  try {
    const nodes = await Promise.all(
      base.nodes.map(async (node, idx): Promise<DockerNode> => {
        // A fresh /run/user/<uid>: a folder left by an earlier user with this uid is not ours to trust.
        const runUser = `/run/user/${node.uid}`;
        rmSync(runUser, { recursive: true, force: true });
        mkdirSync(runUser, { recursive: true, mode: 0o700 });
        chownSync(runUser, node.uid, gidOf(node.user));
        runDirs.push(runUser);
        const dockerSocket = join(runUser, 'docker.sock');
        const dockerd = await startDockerd({
          dir: join(base.dir, `n${idx + 1}`, 'dockerd'),
          netns: node.netns,
          socketPath: dockerSocket,
          bip: `10.81.${idx + 1}.1/24`,
          group: node.user,
        });
        engines.push(dockerd);
        const image = await ensureTestImage(dockerSocket);
        return Object.assign(node, { dockerd, dockerSocket, image });
      }),
    );
    return {
      ...base,
      nodes,
      async containers(i) {
        const r = await nodes[i]!.dockerd.engine.json({
          method: 'GET',
          path: '/containers/json',
          query: { all: 1, filters: JSON.stringify({ label: ['dev.vendetta.workspace'] }) },
          accept: [200],
          what: 'list containers',
        });
        return r.value as Array<{ Id: string; Names: string[]; Labels: Record<string, string>; State: string }>;
      },
      destroy: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
