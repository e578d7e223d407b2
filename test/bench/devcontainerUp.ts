/**
 * Issue-16 benchmark: `vendetta up` of a Dockerfile devcontainer project beside `devcontainer up`
 * of the same project by `@devcontainers/cli` (the reference implementation, a devDependency used
 * here only), on the same private dockerd, with the same Dockerfile. Two rows:
 * - devcontainer-up-cold: the Dockerfile's RUN layer is new each run (a build arg with a fresh
 *   value, for both tools), so each builds it; target 1.2×.
 * - devcontainer-up-warm: the same project again after its workspace/container was removed, the
 *   image's layers cached; target 1.0×.
 * Each `up` is timed until it returns (Vendetta's: the workspace's sshd answers and the code is
 * synced; the reference's: its container runs). Medians of RUNS.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_IMAGE } from '../infra/image';
import { REPO } from '../integration/coordinatorHarness';
import { createWorkspaceEnv, type WorkspaceEnv } from '../integration/workspaceHarness';
import { median, result, type Benchmark } from './harness';
import { must, needsRootDockerSsh } from './workspaces';

const RUNS = 3;
const REFERENCE_CLI = join(REPO, 'node_modules', '@devcontainers', 'cli', 'devcontainer.js');

function writeProject(dir: string, stamp: string): void {
  mkdirSync(join(dir, '.devcontainer'), { recursive: true });
  writeFileSync(
    join(dir, '.devcontainer', 'devcontainer.json'),
    JSON.stringify({ name: 'bench-dc', build: { dockerfile: 'Dockerfile', args: { STAMP: stamp } } }),
  );
  writeFileSync(
    join(dir, '.devcontainer', 'Dockerfile'),
    `FROM ${TEST_IMAGE}\nARG STAMP\nRUN echo "$STAMP" > /etc/bench-stamp && ls /usr/bin > /etc/bench-list\n`,
  );
  writeFileSync(join(dir, 'README.md'), 'bench project\n');
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = Date.now();
  await f();
  return Date.now() - t0;
}

async function vendettaUp(env: WorkspaceEnv, dir: string): Promise<number> {
  const ms = await timed(async () => must(await env.cli(['up', dir], { timeoutMs: 300_000 }), 'vendetta up'));
  must(await env.cli(['workspace', 'rm', 'bench-dc', '--force']), 'workspace rm');
  return ms;
}

async function referenceUp(env: WorkspaceEnv, dir: string): Promise<number> {
  const dockerEnv = { DOCKER_HOST: env.dockerd.host };
  const ms = await timed(async () =>
    must(
      await env.run([process.execPath, REFERENCE_CLI, 'up', '--workspace-folder', dir], {
        env: dockerEnv,
        timeoutMs: 300_000,
      }),
      'devcontainer up',
    ),
  );
  const ids = must(
    await env.run(['docker', 'ps', '-aq', '--filter', `label=devcontainer.local_folder=${dir}`], { env: dockerEnv }),
    'docker ps',
  ).stdout.split(/\s+/);
  for (const id of ids.filter(Boolean))
    must(await env.run(['docker', 'rm', '-f', id], { env: dockerEnv }), 'docker rm');
  return ms;
}

export const devcontainerUp: Benchmark = {
  name: 'devcontainer-up',
  requires: needsRootDockerSsh,
  async run() {
    const env = await createWorkspaceEnv();
    try {
      const ours = join(env.h.dir, 'projects', 'bench-dc');
      const theirs = join(env.h.dir, 'projects', 'bench-dc-ref');
      const cold = { ours: [] as number[], theirs: [] as number[] };
      const warm = { ours: [] as number[], theirs: [] as number[] };
      for (let i = 0; i < RUNS; i++) {
        // A fresh stamp: the RUN layer is built anew by each tool (cold); the second up reuses it (warm).
        const stamp = `${Date.now()}-${i}`;
        writeProject(ours, stamp);
        writeProject(theirs, stamp);
        cold.ours.push(await vendettaUp(env, ours));
        cold.theirs.push(await referenceUp(env, theirs));
        warm.ours.push(await vendettaUp(env, ours));
        warm.theirs.push(await referenceUp(env, theirs));
      }
      const note = `medians of ${RUNS}; vendetta ${cold.ours.join('/')} cold, ${warm.ours.join('/')} warm ms; reference ${cold.theirs.join('/')} cold, ${warm.theirs.join('/')} warm ms`;
      return [
        result(
          'devcontainer-up-cold',
          median(cold.ours),
          'ms',
          'devcontainers-cli-up-cold',
          median(cold.theirs),
          1.2,
          note,
        ),
        result(
          'devcontainer-up-warm',
          median(warm.ours),
          'ms',
          'devcontainers-cli-up-warm',
          median(warm.theirs),
          1.0,
          note,
        ),
      ];
    } finally {
      await env.cleanup();
    }
  },
};
