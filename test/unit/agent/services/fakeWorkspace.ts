/**
 * A workspace for services tests without a container: exec understands the agent's wrapper,
 * sweep, listener read and relay argv, and runs "services" whose behaviour the command names:
 *   `run`            runs until signalled
 *   `listen <port>`  runs, and listens on 127.0.0.1:<port> after 5 ms
 *   `stubborn`       ignores SIGTERM
 *   `slowdeath`      ignores SIGTERM, and its end after SIGKILL is reported late
 *   `crash <code>`   prints "boom" on stderr and exits with <code> after 5 ms
 *   `ok` / `fail`    (health checks and hooks) exit 0 / 1 at once, printing their name
 */
import type { ServiceLogLine, ServiceSpec } from '../../../../agent/protocol';
import type { ExecOptions, ExecResult } from '../../../../agent/providers/contract';
import type { WorkspaceHost } from '../../../../agent/services/portRelay';
import { RUN_MARKER_VAR, serviceEnv } from '../../../../agent/services/env';
import type { ServiceTiming } from '../../../../agent/services/runner';

export interface FakeProc {
  pid: number;
  runId: string;
  command: string;
  exited: boolean;
  signals: string[];
  exit(code: number): void;
}

export const FAST: ServiceTiming = {
  settleMs: 20,
  stopGraceMs: 100,
  startingCheckMs: 10,
  backoff: { baseMs: 10, maxMs: 40, maxRestarts: 3, windowMs: 10_000 },
};

export class FakeWorkspace {
  readonly procs: FakeProc[] = [];
  readonly listening = new Set<number>();
  readonly execs: Array<{ argv: string[]; opts: ExecOptions }> = [];
  readonly lines: ServiceLogLine[] = [];
  /** Every TERM/KILL sweep in order: [signal, run id]. */
  readonly sweeps: Array<[string, string]> = [];
  relayRuns = 0;
  /** Makes every exec fail (a stopped container). */
  down = false;
  /** What the host says when asked whether the workspace itself is down (a VM whose process died). */
  downReason: string | undefined;
  /** As for Docker: published ports arrive at the workspace's address. */
  relayNeeded = true;
  private nextPid = 100;

  host(
    services: ServiceSpec[],
    ports: Record<string, number> = {},
    timing: ServiceTiming = FAST,
  ): WorkspaceHost & { changes: number } {
    const h = {
      changes: 0,
      exec: (argv: string[], opts: ExecOptions) => this.exec(argv, opts),
      runOptions: (svc: ServiceSpec, runId: string) => ({
        env: serviceEnv({ WS: '1' }, services, svc, runId),
        user: 'dev',
        workingDir: '/workspaces/x',
      }),
      nodePortOf: (p: number) => ports[String(p)],
      relayNeeded: this.relayNeeded,
      // No address: tcp checks read the listeners through exec, as for a loopback-only port.
      workspaceAddress: async () => undefined,
      httpGet: () => Promise.reject(new Error('no http in this fake')),
      tcpConnect: () => Promise.reject(new Error('no tcp in this fake')),
      workspaceDown: async () => this.downReason,
      log: (l: ServiceLogLine) => this.lines.push(l),
      changed: () => {
        h.changes++;
      },
      timing,
    };
    return h;
  }

  running(command?: string): FakeProc[] {
    return this.procs.filter((p) => !p.exited && (command === undefined || p.command === command));
  }

  linesOf(service: string, stream?: string): string[] {
    return this.lines
      .filter((l) => l.service === service && (stream === undefined || l.stream === stream))
      .map((l) => l.line);
  }

  async exec(argv: string[], opts: ExecOptions): Promise<ExecResult> {
    this.execs.push({ argv, opts });
    if (this.down) throw new Error('the container is not running');
    if (argv[3] === 'vendetta-sweep') {
      const [sig, id] = [argv[4]!, argv[5]!];
      this.sweeps.push([sig, id]);
      const victims = this.running().filter((p) => p.runId.startsWith(id));
      for (const p of victims) this.signal(p, sig);
      return { exitCode: 0, stdout: `${victims.length}\n`, stderr: '' };
    }
    if (argv[0] === 'cat' && argv[1] === '/proc/net/tcp') {
      const rows = [...this.listening].map(
        (p, i) =>
          `   ${i}: 0100007F:${p.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0`,
      );
      return { exitCode: 0, stdout: `  sl  local_address rem_address   st\n${rows.join('\n')}\n`, stderr: '' };
    }
    if (argv[3] === 'vendetta-relay') {
      this.relayRuns++;
      return this.spawn(argv.slice(4).join(' '), opts, () => undefined);
    }
    const wrapped = argv[3] === 'vendetta-service';
    const cmd = wrapped ? argv.slice(4) : argv;
    const command = cmd[0] === '/bin/sh' && cmd[1] === '-c' ? cmd[2]! : cmd.join(' ');
    return this.spawn(command, opts, (p) => {
      if (wrapped) opts.onStdout?.(Buffer.from(`vendetta-pid ${p.pid}\n`));
      this.behave(p, command, opts);
    });
  }

  private spawn(command: string, opts: ExecOptions, start: (p: FakeProc) => void): Promise<ExecResult> {
    return new Promise((resolve) => {
      const p: FakeProc = {
        pid: this.nextPid++,
        runId: opts.env?.[RUN_MARKER_VAR] ?? '',
        command,
        exited: false,
        signals: [],
        exit: (code) => {
          if (p.exited) return;
          p.exited = true;
          const port = /^listen (\d+)$/.exec(command);
          if (port) this.listening.delete(Number(port[1]));
          resolve({ exitCode: code, stdout: /^(ok|fail)$/.test(command) ? `${command}\n` : '', stderr: '' });
        },
      };
      this.procs.push(p);
      start(p);
      if (command === 'ok') p.exit(0);
      if (command === 'fail') p.exit(1);
    });
  }

  private behave(p: FakeProc, command: string, opts: ExecOptions): void {
    const listen = /^listen (\d+)$/.exec(command);
    if (listen) setTimeout(() => !p.exited && this.listening.add(Number(listen[1])), 5);
    const crash = /^crash (\d+)$/.exec(command);
    if (crash) {
      setTimeout(() => {
        opts.onStderr?.(Buffer.from('boom\n'));
        p.exit(Number(crash[1]));
      }, 5);
    }
    if (command.startsWith('echo ')) {
      opts.onStdout?.(Buffer.from(`${command.slice(5)}\n`));
      p.exit(0);
    }
  }

  private signal(p: FakeProc, sig: string): void {
    if (sig === '0') return; // kill -0: only asks whether it lives
    p.signals.push(sig);
    if (sig === 'TERM' && (p.command === 'stubborn' || p.command === 'slowdeath')) return;
    // slowdeath: its end is reported long after SIGKILL (an exec channel of a slow VM).
    setTimeout(() => p.exit(sig === 'KILL' ? 137 : 143), p.command === 'slowdeath' ? 600 : 2);
  }
}

export const until = async (what: string, cond: () => boolean, ms = 3_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

export function svc(name: string, command: string, over: Partial<ServiceSpec> = {}): ServiceSpec {
  return { name, command, env: {}, dependsOn: [], restart: 'no', ...over };
}
