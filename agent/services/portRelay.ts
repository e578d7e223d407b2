/** The workspace's one port relay process (relay.ts): started with the services, stopped with them. */
import type { ServiceSpec } from '../protocol';
import { RUN_MARKER_VAR } from './env';
import { LineSplitter } from './logFiles';
import { newRunId, sweepArgv } from './processControl';
import { parseRelayLine, relayArgv, type RelayEvent } from './relay';
import type { RunnerHost } from './runner';

export type WorkspaceHost = Omit<RunnerHost, 'relayWorks'>;

export class PortRelay {
  private runId: string | undefined;
  /** False once it ended on its own (no node in the workspace): checks then go inside. */
  works = true;

  constructor(
    private readonly host: WorkspaceHost,
    private readonly services: readonly ServiceSpec[],
  ) {}

  private published(): ServiceSpec[] {
    return this.services.filter((s) => s.port !== undefined && this.host.nodePortOf(s.port) !== undefined);
  }

  private say(port: number, line: string): void {
    for (const s of this.services.filter((x) => x.port === port))
      this.host.log({ time: new Date().toISOString(), service: s.name, stream: 'system', line });
  }

  private note(ev: RelayEvent): void {
    if (ev.kind === 'relaying')
      this.say(ev.port, `listens on 127.0.0.1:${ev.port} only; relaying its published port to it`);
    if (ev.kind === 'error') this.say(ev.port, `could not relay port ${ev.port}: ${ev.message}`);
  }

  start(): void {
    const services = this.published();
    if (!this.host.relayNeeded || this.runId !== undefined || services.length === 0) return;
    const id = newRunId();
    this.runId = id;
    this.works = true;
    const out = new LineSplitter((line) => {
      const ev = parseRelayLine(line);
      if (ev) this.note(ev);
    });
    const err: string[] = [];
    void this.host
      .exec(relayArgv(services.map((s) => s.port!)), {
        user: 'root',
        env: { [RUN_MARKER_VAR]: id },
        timeoutMs: 0,
        onStdout: (c) => out.push(c),
        onStderr: (c) => err.push(c.toString()),
      })
      .then(
        (r) => r.exitCode as number | null,
        (e: unknown) => {
          err.push(e instanceof Error ? e.message : String(e));
          return null;
        },
      )
      .then((code) => {
        if (this.runId !== id) return; // stopped on purpose
        this.runId = undefined;
        this.works = false;
        const why = err.join('').trim() || `exit code ${code ?? 'unknown'}`;
        for (const s of services)
          this.say(
            s.port!,
            `the port relay ended (${why}): port ${s.port} is reachable from the node only if the service listens on 0.0.0.0`,
          );
      });
  }

  async stop(): Promise<void> {
    const id = this.runId;
    if (id === undefined) return;
    this.runId = undefined;
    await this.host.exec(sweepArgv('KILL', id), { user: 'root', timeoutMs: 10_000 }).catch(() => undefined);
  }
}
