/**
 * A workspace's services: started in dependency order (each once its dependencies are
 * healthy, independent ones in parallel), stopped in reverse order, with the hooks before.
 */
import type { HookName, HookRun, ServiceSpec, WorkspaceServicesStatus } from '../protocol';
import { blockingDependency, stopWaves, waitingReason, withDependencies } from './graph';
import { runHook, type HookSteps } from './hooks';
import { newRunId, sweepArgv } from './processControl';
import { PortRelay, type WorkspaceHost } from './portRelay';
import { ServiceRunner, type RunnerHost } from './runner';

export interface OrchestratorOptions {
  workspace: string;
  services: ServiceSpec[];
  /** Each hook's commands in order (hookSteps: the features' first, then the project's). */
  hooks?: HookSteps;
  host: WorkspaceHost;
  /** Whether the create hooks (onCreate, updateContent, postCreate) already ran here, and how to remember that they have. */
  postCreateDone(): boolean;
  markPostCreateDone(run: HookRun): void;
}

export class WorkspaceServices {
  readonly runners: ServiceRunner[];
  private readonly byName: Map<string, ServiceRunner>;
  private hookRuns: Partial<Record<HookName, HookRun>> = {};
  /** Bumped by every start and stop: a start overtaken by another request gives up. */
  private generation = 0;
  private readonly relay: PortRelay;
  /** The run id of the hook running now, so a stop can end it. */
  private hookRun: string | undefined;
  /** The run id of a postAttach running now, so a stop ends it too. */
  private attachRun: string | undefined;
  /** Services waiting for the hooks to finish: not launched by pump(). */
  private readonly held = new Set<ServiceRunner>();

  constructor(private readonly opts: OrchestratorOptions) {
    this.relay = new PortRelay(opts.host, opts.services);
    const host: RunnerHost = { ...opts.host, changed: () => this.changed(), relayWorks: () => this.relay.works };
    this.runners = opts.services.map((s) => new ServiceRunner(s, host));
    this.byName = new Map(this.runners.map((r) => [r.spec.name, r]));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  status(): WorkspaceServicesStatus {
    return {
      workspace: this.opts.workspace,
      services: this.runners.map((r) => ({ ...r.status })),
      hooks: { ...this.hookRuns },
    };
  }

  private changed(): void {
    this.pump();
    this.opts.host.changed();
  }

  /** Launches every wanted service whose dependencies are healthy; the others say what they wait for. */
  private pump(): void {
    for (const r of this.runners) {
      if (!r.wanted || r.status.state !== 'waiting' || this.held.has(r)) continue;
      const block = blockingDependency(r.spec, (n) => this.byName.get(n)?.status.state);
      if (block) r.waitFor(waitingReason(block));
      else r.launch();
    }
  }

  /**
   * (Re)starts one service (and whatever it depends on that is not running), or all: running
   * ones are stopped first (reverse order), then hooks run, then everything starts in order.
   * Resolves once the start is under way; health follows in `status()` and notifications.
   */
  async start(only?: string, runHooks = true): Promise<void> {
    const gen = ++this.generation;
    const names = only ? withDependencies(this.opts.services, only) : new Set(this.byName.keys());
    const restart = only ? [this.byName.get(only)!] : this.runners.filter((r) => r.running || r.wanted);
    await this.stopRunners(restart.map((r) => r.spec.name));
    if (gen !== this.generation) return;
    // A run stopped just now has had SIGKILL even when its exec has not said so yet (a slow VM's
    // SSH channel): it starts again all the same, or a restart would leave it stopped.
    const targets = this.runners.filter((r) => names.has(r.spec.name) && (!r.running || restart.includes(r)));
    for (const r of targets) r.resetRestarts();
    const hooks = runHooks && !only ? this.pendingHooks() : [];
    if (hooks.length) {
      for (const r of targets) this.held.add(r);
      for (const r of targets) r.waitFor(`waiting for the ${hooks.join(' and ')} hook`);
      void this.runHooksThenStart(gen, hooks, targets);
      return;
    }
    this.begin(targets);
  }

  private begin(targets: ServiceRunner[]): void {
    this.relay.start();
    for (const r of targets) r.waitFor('starting');
    this.pump();
  }

  private pendingHooks(): HookName[] {
    const h = this.opts.hooks ?? {};
    const once = this.opts.postCreateDone() ? [] : CREATE_HOOKS;
    return [...once, 'postStart' as const].filter((n) => h[n] !== undefined);
  }

  /**
   * An SSH client connected: postAttach runs in the background (not again while one runs);
   * false when there is none to run.
   */
  attached(): boolean {
    const steps = this.opts.hooks?.postAttach;
    if (steps === undefined || this.hookRuns.postAttach?.state === 'running') return false;
    const runId = newRunId();
    this.attachRun = runId;
    void runHook(
      'postAttach',
      steps,
      (argv, o) =>
        this.opts.host.exec(argv, { ...this.opts.host.runOptions(hookSpec('postAttach'), runId, true), ...o }),
      this.opts.host.log,
      (s) => {
        this.hookRuns = { ...this.hookRuns, postAttach: s };
        if (s.state !== 'running' && this.attachRun === runId) this.attachRun = undefined;
        this.opts.host.changed();
      },
    );
    return true;
  }

  private async runHooksThenStart(gen: number, hooks: HookName[], targets: ServiceRunner[]): Promise<void> {
    for (const name of hooks) {
      const steps = this.opts.hooks?.[name];
      if (steps === undefined) continue;
      const runId = newRunId();
      this.hookRun = runId;
      const run = await runHook(
        name,
        steps,
        (argv, o) => this.opts.host.exec(argv, { ...this.opts.host.runOptions(hookSpec(name), runId, true), ...o }),
        this.opts.host.log,
        (s) => {
          this.hookRuns = { ...this.hookRuns, [name]: s };
          this.opts.host.changed();
        },
      );
      if (this.hookRun === runId) this.hookRun = undefined;
      // The hooks after a failed one do not run (as the Dev Containers spec has it); the services still start.
      if (run.state === 'failed' || gen !== this.generation) break;
      if (CREATE_HOOKS.includes(name) && !hooks.slice(hooks.indexOf(name) + 1).some((n) => CREATE_HOOKS.includes(n)))
        this.opts.markPostCreateDone(run);
    }
    for (const r of targets) this.held.delete(r);
    if (gen === this.generation) this.begin(targets.filter((r) => r.wanted && !r.running));
  }

  /** Stops one service, or all in reverse dependency order (each wave in parallel). */
  async stop(only?: string): Promise<void> {
    this.generation++;
    if (!only && this.hookRun !== undefined) {
      // A hook still running (a long postStart) is ended too; the services it held back stay stopped.
      await this.opts.host
        .exec(sweepArgv('KILL', this.hookRun), { user: 'root', timeoutMs: 10_000 })
        .catch(() => undefined);
      this.hookRun = undefined;
    }
    if (!only && this.attachRun !== undefined) {
      await this.opts.host
        .exec(sweepArgv('KILL', this.attachRun), { user: 'root', timeoutMs: 10_000 })
        .catch(() => undefined);
      this.attachRun = undefined;
    }
    await this.stopRunners(only ? [only] : [...this.byName.keys()]);
    if (!only) await this.relay.stop();
  }

  private async stopRunners(names: string[]): Promise<void> {
    const set = new Set(names);
    for (const wave of stopWaves(this.opts.services)) {
      await Promise.all(wave.filter((n) => set.has(n)).map((n) => this.byName.get(n)!.stop()));
    }
  }
}

/** Run once per workspace, in this order. */
const CREATE_HOOKS: readonly HookName[] = ['onCreate', 'updateContent', 'postCreate'];

/** Hooks run with the workspace's env and discovery env, like a service without its own env. */
function hookSpec(name: HookName): ServiceSpec {
  return { name, command: '', env: {}, dependsOn: [], restart: 'no' };
}
