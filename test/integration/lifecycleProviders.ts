/**
 * The providers the shared lifecycle suite (lifecycleSuite.ts) runs against, one row each: how to
 * get a local node with that engine in a network namespace of its own, the config section that
 * selects it, and what the suite needs to see or do behind vendetta's back (list the engine's
 * workspaces, delete one, stop and start the engine). A new provider adds a row, not a suite.
 */
import { join } from 'node:path';
import { startDockerd } from '../infra/docker';
import { ensureTestImage, TEST_IMAGE } from '../infra/image';
import { startLxd, TEST_LXD_IMAGE } from '../infra/lxd';
import { createCliHome } from './coordinatorHarness';
import { commandsIn, type WorkspaceEnv } from './workspaceHarness';

export interface EngineWorkspace {
  workspace: string;
  running: boolean;
}

export interface ProviderEnv extends Pick<WorkspaceEnv, 'h' | 'cli' | 'run' | 'ssh'> {
  /** The config lines that select the provider and its image. */
  configYaml: string;
  /** argv prefix entering the node's network namespace. */
  nsenter: string[];
  /** Env the CLI (and so the local agent) gets, to find the engine. */
  env: Record<string, string>;
  /** Our workspaces as the engine lists them. */
  workspaces(): Promise<EngineWorkspace[]>;
  /** The engine's own record of a workspace: Docker's inspect, LXD's instance, QEMU's command line. */
  engineRecord(workspace: string): Promise<string>;
  /** Removes a workspace's container/instance without vendetta. */
  deleteBehindBack(workspace: string): Promise<void>;
  /**
   * The engine's daemon stops (its workspaces keep running) and comes back on the same data;
   * absent where the test infra cannot restart the engine in place (a private dockerd).
   */
  engineRestart?: { stop(): Promise<void>; start(): Promise<void> };
  /**
   * The node goes down and up as a reboot does: every workspace stopped (not by the user), the
   * engine's daemon started again; the agent is the suite's to kill. Absent for a VM (a boot more).
   */
  nodeReboot?(): Promise<void>;
  /** The one node process a workspace is (a VM's QEMU), where there is such a process. */
  enginePid?(workspace: string): number | undefined;
  /** Kills that process behind vendetta's back and waits until it is gone. */
  killEngineProcess?(workspace: string): Promise<void>;
  cleanup(): Promise<void>;
}

export interface LifecycleProvider {
  name: 'docker' | 'lxc' | 'qemu';
  /** How long an `up` or `start` (a container start, or a VM boot to its services) may take. */
  bootMs: number;
  /**
   * Each boot costs minutes (a VM under TCG): the row boots twice in all (lifecycleVm.ts) instead
   * of once per restart case, and proves there what a VM adds.
   */
  scarceBoots?: boolean;
  /** Node commands the row needs beyond the engine its setup starts. */
  commands?: string[];
  /**
   * The one change to the shared project beyond its provider section, where the engine is much
   * slower than a container (a VM under TCG), with why.
   */
  adaptProject?(configText: string): string;
  /** What `up` must tell the user on this provider while it boots (its progress, on stderr). */
  upSays?: RegExp[];
  setup(): Promise<ProviderEnv>;
}

export const LXC_ROW: LifecycleProvider = {
  name: 'lxc',
  bootMs: 280_000,
  async setup() {
    const configYaml = `provider: lxc\nlxc:\n  image: ${TEST_LXD_IMAGE}\n  cpus: 1\n  memory: 512m\n  config: { security.nesting: "true" }\n`;
    const h = createCliHome();
    const lxd = await startLxd().catch(async (err: unknown) => {
      await h.cleanup();
      throw err;
    });
    const env = { LXD_DIR: lxd.dir, LXD_CONF: lxd.env.LXD_CONF! };
    return {
      h,
      configYaml,
      nsenter: lxd.nsenter,
      env,
      ...commandsIn(h, lxd.nsenter, env),
      workspaces: async () =>
        (await lxd.instances()).map((i) => ({ workspace: i.workspace, running: i.status === 'Running' })),
      async engineRecord(workspace) {
        const found = (await lxd.instances()).find((i) => i.workspace === workspace);
        if (!found) throw new Error(`no instance of ${workspace}`);
        const r = await lxd.client.json({
          method: 'GET',
          path: `/1.0/instances/${found.name}`,
          query: { recursion: 1 },
          accept: [200],
          what: 'inspect',
        });
        return JSON.stringify(r.value);
      },
      async deleteBehindBack(workspace) {
        const found = (await lxd.instances()).find((i) => i.workspace === workspace);
        if (!found) throw new Error(`no instance of ${workspace}`);
        await lxd.client
          .operation(
            {
              method: 'PUT',
              path: `/1.0/instances/${found.name}/state`,
              json: { action: 'stop', force: true },
              accept: [202],
              what: 'stop',
            },
            60_000,
          )
          .catch(() => undefined);
        await lxd.client.operation(
          { method: 'DELETE', path: `/1.0/instances/${found.name}`, accept: [202], what: 'delete' },
          60_000,
        );
      },
      engineRestart: { stop: () => lxd.stopDaemon(), start: () => lxd.startDaemon() },
      async nodeReboot() {
        // Power gone: each instance stopped at once (LXD keeps it as the user's stop, so LXD
        // itself will not start it again: bringing it back is the agent's job), then the daemon.
        for (const i of await lxd.instances())
          await lxd.client.operation(
            {
              method: 'PUT',
              path: `/1.0/instances/${i.name}/state`,
              json: { action: 'stop', force: true },
              accept: [202],
              what: 'stop',
            },
            60_000,
          );
        await lxd.stopDaemon();
        await lxd.startDaemon();
      },
      async cleanup() {
        await h.cleanup();
        await lxd.stop();
      },
    };
  },
};

export const DOCKER_ROW: LifecycleProvider = {
  name: 'docker',
  bootMs: 280_000,
  async setup() {
    const configYaml = `provider: docker\ndocker:\n  image: ${TEST_IMAGE}\n  cpus: 1\n  memory: 512m\n`;
    const h = createCliHome();
    try {
      const d = await startDockerd({ dir: join(h.dir, 'dockerd'), ownNetns: true, bip: '10.79.212.1/24' });
      await ensureTestImage(d.socket);
      const env = { DOCKER_HOST: d.host };
      const list = async () =>
        (
          await d.engine.json({
            method: 'GET',
            path: '/containers/json',
            query: { all: 1, filters: JSON.stringify({ label: ['dev.vendetta.workspace'] }) },
            accept: [200],
            what: 'list',
          })
        ).value as Array<{ Id: string; State: string; Labels: Record<string, string> }>;
      return {
        h,
        configYaml,
        nsenter: d.nsenter,
        env,
        ...commandsIn(h, d.nsenter, env),
        workspaces: async () =>
          (await list()).map((c) => ({
            workspace: c.Labels['dev.vendetta.workspace']!,
            running: c.State === 'running',
          })),
        async engineRecord(workspace) {
          const c = (await list()).find((x) => x.Labels['dev.vendetta.workspace'] === workspace);
          if (!c) throw new Error(`no container of ${workspace}`);
          const r = await d.engine.json({
            method: 'GET',
            path: `/containers/${c.Id}/json`,
            accept: [200],
            what: 'inspect',
          });
          return JSON.stringify(r.value);
        },
        async deleteBehindBack(workspace) {
          const c = (await list()).find((x) => x.Labels['dev.vendetta.workspace'] === workspace);
          if (!c) throw new Error(`no container of ${workspace}`);
          await d.engine.send({
            method: 'DELETE',
            path: `/containers/${c.Id}`,
            query: { force: 1 },
            accept: [204],
            what: 'remove',
          });
        },
        nodeReboot: () => d.restart(),
        async cleanup() {
          await h.cleanup();
          await d.stop();
        },
      };
    } catch (err) {
      await h.cleanup();
      throw err;
    }
  },
};
