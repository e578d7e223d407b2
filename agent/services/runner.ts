/**
 * One service of a running workspace: its process (through the provider's exec), its health
 * loop, its restarts, and its stop. The workspace's orchestrator decides when it may start.
 */
import type { ServiceLogLine, ServiceSpec, ServiceStatus } from '../protocol';
import type { ExecOptions, ExecResult } from '../providers/contract';
import { runCheck, type CheckDeps } from './health';
import { LineSplitter } from './logFiles';
import { newRunId, parsePidLine, sweepArgv, wrappedArgv, type SweepSignal } from './processControl';
import { hopelessExit, RestartTracker, wantsRestart, type BackoffOptions } from './restartPolicy';
import { serviceScheme } from './env';

export interface ServiceTiming {
  /** A service without a health check is `running` once it has run this long. */
  settleMs: number;
  /** SIGTERM → SIGKILL. */
  stopGraceMs: number;
  /** Until first healthy a service is checked at least this often (then every interval). */
  startingCheckMs: number;
  backoff: BackoffOptions;
}

export const DEFAULT_TIMING: ServiceTiming = {
  settleMs: 500,
  stopGraceMs: 5_000,
  startingCheckMs: 100,
  backoff: { baseMs: 500, maxMs: 30_000, maxRestarts: 5, windowMs: 60_000 },
};

/** What a runner needs from its workspace. */
export interface RunnerHost {
  /** Runs argv inside the workspace (no timeout unless given). */
  exec(argv: string[], opts: ExecOptions): Promise<ExecResult>;
  /** The env, user and folder a run of this service gets. */
  /** `asRemote`: a lifecycle hook, which also gets the workspace's remoteEnv. */
  runOptions(
    svc: ServiceSpec,
    runId: string,
    asRemote?: boolean,
  ): { env: Record<string, string>; user: string; workingDir: string };
  nodePortOf(guestPort: number): number | undefined;
  /** Published ports arrive at the workspace's own address, so loopback-only services need the relay. */
  relayNeeded: boolean;
  /** False once the workspace's port relay could not run (relay.ts). */
  relayWorks(): boolean;
  /** Node-side check reach (health.ts): the workspace's address, a GET, a connect. */
  workspaceAddress: CheckDeps['workspaceAddress'];
  httpGet: CheckDeps['httpGet'];
  tcpConnect: CheckDeps['tcpConnect'];
  /**
   * Why the workspace itself is not running (stopped, its VM's process gone), or undefined when it
   * runs or that cannot be told now (its engine does not answer: it may come back).
   */
  workspaceDown?(): Promise<string | undefined>;
  log(line: ServiceLogLine): void;
  changed(): void;
  timing: ServiceTiming;
}

interface Run {
  id: string;
  startedMs: number;
  exited: boolean;
  done: Promise<void>;
  failures: number;
  /** When the last failure was counted: failures count at most once per interval. */
  lastCountedMs: number;
}

/** How long after its pid line a run must still be alive to be called running (see tick). */
const PID_SETTLE_MS = 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class ServiceRunner {
  status: ServiceStatus;
  /** The orchestrator wants it running (cleared by stop). */
  wanted = false;
  private run: Run | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly tracker: RestartTracker;
  /** When the current run's wrapper said its pid. */
  private pidAt: number | undefined;

  constructor(
    readonly spec: ServiceSpec,
    private readonly host: RunnerHost,
  ) {
    this.tracker = new RestartTracker(host.timing.backoff);
    this.status = { name: spec.name, state: 'stopped', restarts: 0, ...this.ports() };
  }

  private ports(): Pick<ServiceStatus, 'port' | 'nodePort' | 'scheme'> {
    if (this.spec.port === undefined) return {};
    const nodePort = this.host.nodePortOf(this.spec.port);
    return { port: this.spec.port, scheme: serviceScheme(this.spec), ...(nodePort !== undefined ? { nodePort } : {}) };
  }

  get running(): boolean {
    return this.run !== undefined && !this.run.exited;
  }

  system(line: string): void {
    this.host.log({ time: new Date().toISOString(), service: this.spec.name, stream: 'system', line });
  }

  private set(patch: Partial<ServiceStatus>, drop: Array<keyof ServiceStatus> = []): void {
    const next: ServiceStatus = { ...this.status, ...patch };
    for (const k of drop) delete next[k];
    this.status = next;
    this.host.changed();
  }

  /** Wanted, but a dependency is not healthy yet. What the last run ended with is history now. */
  waitFor(reason: string): void {
    this.wanted = true;
    if (this.status.state === 'waiting' && this.status.reason === reason) return;
    this.set({ state: 'waiting', reason }, ['pid', 'startedAt', 'healthyAt', 'nextRestartAt', 'exitCode', 'lastCheck']);
  }

  /** A start by the user: earlier crashes are forgiven. */
  resetRestarts(): void {
    this.tracker.reset();
    this.status = { ...this.status, restarts: 0 };
  }

  launch(): void {
    this.wanted = true;
    clearTimeout(this.timer);
    const id = newRunId();
    const opts = this.host.runOptions(this.spec, id);
    let firstLine = true;
    const out = new LineSplitter((line) => {
      const pid = firstLine ? parsePidLine(line) : undefined;
      firstLine = false;
      if (pid !== undefined) {
        this.pidAt = Date.now();
        this.set({ pid });
      } else this.host.log({ time: new Date().toISOString(), service: this.spec.name, stream: 'stdout', line });
    });
    const err = new LineSplitter((line) =>
      this.host.log({ time: new Date().toISOString(), service: this.spec.name, stream: 'stderr', line }),
    );
    const cmd = typeof this.spec.command === 'string' ? this.spec.command : JSON.stringify(this.spec.command);
    this.system(`starting: ${cmd}`);
    const run: Run = {
      id,
      startedMs: Date.now(),
      exited: false,
      done: Promise.resolve(),
      failures: 0,
      lastCountedMs: 0,
    };
    this.pidAt = undefined;
    this.run = run;
    this.set({ state: 'starting', startedAt: new Date(run.startedMs).toISOString() }, [
      'reason',
      'pid',
      'healthyAt',
      'nextRestartAt',
      'exitCode',
      'lastCheck',
    ]);
    run.done = this.host
      .exec(wrappedArgv(this.spec.command), {
        ...opts,
        onStdout: (c) => out.push(c),
        onStderr: (c) => err.push(c),
        timeoutMs: 0,
      })
      .then(
        (r) => r.exitCode as number | null,
        (e: unknown) => {
          this.system(`could not run: ${e instanceof Error ? e.message : String(e)}`);
          return null;
        },
      )
      .then(async (code) => {
        out.flush();
        err.flush();
        await this.exited(run, code);
      });
    this.schedule(
      run,
      this.spec.healthcheck
        ? Math.min(this.spec.healthcheck.intervalMs, this.host.timing.startingCheckMs)
        : this.host.timing.settleMs,
    );
  }

  private schedule(run: Run, ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(run), ms);
  }

  private async tick(run: Run): Promise<void> {
    if (run !== this.run || run.exited) return;
    const hc = this.spec.healthcheck;
    if (!hc) {
      if (this.status.state !== 'starting') return;
      // Nothing proves it healthy, only that it runs: its process is alive well after the
      // wrapper said its pid (a command the shell cannot run is gone by then), so a run that
      // is on its way out is left to its exit, however slowly the engine reports that.
      const alive =
        this.pidAt !== undefined && Date.now() - this.pidAt >= PID_SETTLE_MS ? await this.sweep('0', run.id) : 0;
      if (run !== this.run || run.exited || this.status.state !== 'starting') return;
      if (alive === 0) {
        this.schedule(run, PID_SETTLE_MS);
        return;
      }
      this.system('running (no health check)');
      this.set({ state: 'running' }, ['reason']);
      return;
    }
    const deps: CheckDeps = {
      exec: (argv, timeoutMs) => this.host.exec(argv, { ...this.host.runOptions(this.spec, `${run.id}c`), timeoutMs }),
      // Without the relay a loopback-only service is not reachable on its node port: check inside.
      nodePortOf: (p) => (this.host.relayWorks() ? this.host.nodePortOf(p) : undefined),
      workspaceAddress: this.host.workspaceAddress,
      httpGet: this.host.httpGet,
      tcpConnect: this.host.tcpConnect,
    };
    const r = await runCheck(hc, deps);
    if (run !== this.run || run.exited) return;
    const lastCheck = { at: new Date().toISOString(), ok: r.ok, output: r.output };
    if (r.ok) {
      run.failures = 0;
      if (this.status.state !== 'healthy') this.becameHealthy(lastCheck);
      else this.status = { ...this.status, lastCheck };
    } else {
      const now = Date.now();
      const inStartPeriod = now - run.startedMs < hc.startPeriodMs;
      if (!inStartPeriod && now - run.lastCountedMs >= hc.intervalMs - 50) {
        run.failures++;
        run.lastCountedMs = now;
      }
      if (run.failures >= hc.retries && this.status.state !== 'unhealthy') {
        this.system(`unhealthy after ${run.failures} failed checks: ${r.output}`);
        this.set({ state: 'unhealthy', reason: `health check failed: ${r.output}`, lastCheck }, ['healthyAt']);
      } else {
        this.status = { ...this.status, lastCheck };
      }
    }
    // Until it is first healthy a service is checked often (like Docker's start_interval), so a
    // dependant starts soon after; failures still count once per interval (see above).
    const starting = this.status.state === 'starting';
    this.schedule(run, starting ? Math.min(hc.intervalMs, this.host.timing.startingCheckMs) : hc.intervalMs);
  }

  private becameHealthy(lastCheck?: ServiceStatus['lastCheck']): void {
    this.system('healthy');
    this.set({ state: 'healthy', healthyAt: new Date().toISOString(), ...(lastCheck ? { lastCheck } : {}) }, [
      'reason',
    ]);
  }

  private async exited(run: Run, code: number | null): Promise<void> {
    run.exited = true;
    if (run === this.run) clearTimeout(this.timer);
    // Whatever the run left behind (children that outlived it) goes with it.
    await this.sweep('KILL', run.id);
    if (run !== this.run) return;
    if (!this.wanted) {
      this.system(`stopped (exit code ${code ?? 'unknown'})`);
      this.set({ state: 'stopped', exitCode: code }, ['pid', 'reason', 'nextRestartAt']);
      return;
    }
    this.system(`exited with code ${code ?? 'unknown'}`);
    const hopeless = hopelessExit(code);
    if (hopeless) {
      // The shell could not find or run the command: another try would fail the same way.
      this.system(`not restarted: ${hopeless}`);
      this.set({ state: 'exited', exitCode: code, reason: `exited with code ${code}: ${hopeless}` }, [
        'pid',
        'healthyAt',
        'nextRestartAt',
      ]);
      return;
    }
    // A restart in a workspace that is down would fail at once, again and again, and hold the
    // service "live" while `up` or `start` brings the workspace back and starts it in order.
    const down = await this.host.workspaceDown?.();
    if (run !== this.run || !this.wanted) return;
    if (down) {
      this.system(`not restarted: ${down}`);
      this.set({ state: 'stopped', exitCode: code, reason: down }, ['pid', 'healthyAt', 'nextRestartAt']);
      return;
    }
    if (!wantsRestart(this.spec.restart, code)) {
      this.set({ state: 'exited', exitCode: code, reason: `exited with code ${code ?? 'unknown'}` }, [
        'pid',
        'healthyAt',
      ]);
      return;
    }
    const d = this.tracker.next(Date.now());
    if (d.action === 'crashloop') {
      const reason = `crash loop: exited ${d.restarts + 1} times within ${this.host.timing.backoff.windowMs / 1000} s; not restarted until the next start`;
      this.system(reason);
      this.set({ state: 'crashloop', exitCode: code, reason }, ['pid', 'healthyAt', 'nextRestartAt']);
      return;
    }
    const at = new Date(Date.now() + d.delayMs).toISOString();
    this.system(`restarting in ${d.delayMs} ms (restart ${this.status.restarts + 1})`);
    this.set(
      {
        state: 'restarting',
        exitCode: code,
        restarts: this.status.restarts + 1,
        nextRestartAt: at,
        reason: `exited with code ${code ?? 'unknown'}`,
      },
      ['pid', 'healthyAt'],
    );
    this.timer = setTimeout(() => {
      if (this.wanted && this.run === run) this.launch();
    }, d.delayMs);
  }

  /** Signals the run's processes ('0': none, only counts the living); how many there were. */
  private async sweep(signal: SweepSignal, runId: string): Promise<number> {
    try {
      const r = await this.host.exec(sweepArgv(signal, runId), { user: 'root', timeoutMs: 10_000 });
      return Number(r.stdout.trim()) || 0;
    } catch {
      return 0; // the workspace is gone or stopped: so are its processes
    }
  }

  /** SIGTERM to every process of the run, SIGKILL after the grace period. */
  async stop(graceMs = this.host.timing.stopGraceMs): Promise<void> {
    this.wanted = false;
    clearTimeout(this.timer);
    const run = this.run;
    if (run && !run.exited) {
      this.system('stopping (SIGTERM)');
      await this.sweep('TERM', run.id);
      const exited = await Promise.race([run.done.then(() => true), sleep(graceMs).then(() => false)]);
      if (!exited) {
        this.system(`still running after ${graceMs} ms: SIGKILL`);
        await this.sweep('KILL', run.id);
        await Promise.race([run.done, sleep(Math.min(graceMs, 5_000))]);
      }
    }
    if (this.status.state !== 'stopped')
      this.set({ state: 'stopped' }, ['pid', 'reason', 'nextRestartAt', 'healthyAt']);
  }
}
