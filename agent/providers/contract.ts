/**
 * How providers are detected: each provider describes the probes it needs (an HTTP GET over a
 * Unix socket, a command with argv, a file access check) and turns their outcomes into a status
 * with pure functions. One ProbeRunner executes probes, so the parsing is tested against
 * recorded outcomes and the runner against real peers.
 */

export type Probe =
  | { kind: 'http-unix'; socketPath: string; path: string }
  | { kind: 'exec'; file: string; args: string[] }
  | { kind: 'access'; path: string; mode: 'rw' | 'r' };

export type ProbeOutcome =
  /** HTTP: status and body. exec: exit 0, stdout as body. access: allowed. */
  | { ok: true; status: number; body: string }
  /** errno name (ENOENT, EACCES, ECONNREFUSED, ETIMEDOUT…) or exit code; message for the log. */
  | { ok: false; code: string; message: string; status?: number; body?: string };

export interface ProbeRunner {
  run(probe: Probe, timeoutMs: number): Promise<ProbeOutcome>;
}
