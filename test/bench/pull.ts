/**
 * workspace-up-pulled: `workspace up` of an image-only project whose image (the Debian test image,
 * about 190 MB, 71 MB compressed) is not on the node and comes from a local registry (Debian's
 * docker-registry on the node's loopback), beside `docker pull` of the same image from the same
 * registry into the same engine followed by `up` of the same project with the image present —
 * the pull done by hand plus everything else `up` does — alternating, each pull from an engine
 * without any of the image's layers. Over 1.0 is what pulling inside `up` costs beyond `docker pull`.
 */
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { TEST_IMAGE } from '../infra/image';
import { startRegistry } from '../infra/registry';
import { commandExists } from '../infra/sys';
import { createWorkspaceEnv } from '../integration/workspaceHarness';
import { median, result, timeMs, type Benchmark } from './harness';
import { must, needsRootDockerSsh } from './workspaces';

const RUNS = 3;
const PORT = 5000;

export const workspaceUpPulled: Benchmark = {
  name: 'workspace-up-pulled',
  requires: () =>
    needsRootDockerSsh() ??
    (commandExists('docker-registry') ? undefined : 'needs docker-registry (test/infra/setup.sh installs it)'),
  async run() {
    const env = await createWorkspaceEnv();
    const registry = await startRegistry({ dir: join(env.h.dir, 'registry'), netns: env.dockerd.netns!, port: PORT });
    try {
      const docker = (args: string[]) => env.run(['docker', '-H', env.dockerd.host, ...args], { timeoutMs: 600_000 });
      const ref = `${registry.host}/bench/debian:1`;
      must(await docker(['tag', TEST_IMAGE, ref]), 'docker tag');
      must(await docker(['push', ref]), 'docker push');
      // Nothing of the image stays in the engine: every pull below downloads every layer.
      const forget = async () => must(await docker(['rmi', '-f', ref, TEST_IMAGE]), 'docker rmi');
      await forget();
      const dir = join(env.h.dir, 'bench-pulled');
      mkdirSync(join(dir, '.vendetta'), { recursive: true });
      writeFileSync(
        join(dir, '.vendetta', 'config.yaml'),
        `name: pulled\nprovider: docker\ndocker: { image: "${ref}" }\n`,
      );
      const upOnce = async () => {
        const ms = await timeMs(async () =>
          must(await env.cli(['workspace', 'up', dir, '--node', 'local'], { timeoutMs: 600_000 }), 'workspace up'),
        );
        must(await env.cli(['workspace', 'rm', 'pulled', '--force']), 'workspace rm');
        return ms;
      };
      const up: number[] = [];
      const pull: number[] = [];
      const present: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        pull.push(await timeMs(async () => must(await docker(['pull', '-q', ref]), 'docker pull')));
        present.push(await upOnce());
        await forget();
        up.push(await upOnce());
        await forget();
      }
      const baseline = pull.map((p, i) => p + present[i]!);
      const note = `up pulling ${up.map(Math.round).join('/')} ms; docker pull ${pull.map(Math.round).join('/')} ms + up with the image there ${present.map(Math.round).join('/')} ms`;
      return [result('workspace-up-pulled', median(up), 'ms', 'docker-pull+up', median(baseline), 1.2, note)];
    } finally {
      await registry.stop();
      await env.cleanup();
    }
  },
};
