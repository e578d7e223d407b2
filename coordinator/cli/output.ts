/**
 * How the CLI talks to a person: results to stdout (a table, or JSON with --json), logs and
 * progress to stderr, errors as `error: …` / `hint: …` with the cause chain under --verbose.
 */
import { causeMessages } from '../../common/errors/causes';
import { toVendettaError } from '../errors';
import { jsonText, terminalSafe } from './terminalText';

export const ExitCode = { Ok: 0, Error: 1, Usage: 2 } as const;

export interface OutputOptions {
  json?: boolean;
  verbose?: boolean;
}

/** Prints an error the way every command does and returns the exit code to use. */
export function reportError(err: unknown, opts: OutputOptions = {}): number {
  const e = toVendettaError(err);
  if (opts.json) {
    process.stdout.write(
      jsonText({ error: { code: e.code, message: e.message, hint: e.hint, causes: causeMessages(e.cause) } }) + '\n',
    );
  }
  // Messages may carry what a workspace printed (build output, sshd's last lines, a failed command's).
  writeErr(`error: ${e.message}\n`);
  if (e.hint) writeErr(`hint: ${e.hint}\n`);
  if (opts.verbose) {
    writeErr(`code: ${e.code}\n`);
    // A wrapped error often carries its own message as the first cause: the chain is what is new.
    const said = new Set([e.message]);
    for (const c of causeMessages(e.cause)) {
      if (said.has(c)) continue;
      said.add(c);
      writeErr(`cause: ${c}\n`);
    }
  }
  return e.code === 'INVALID_PARAMS' || e.code === 'INVALID_NAME' || e.code === 'INVALID_HOST'
    ? ExitCode.Usage
    : ExitCode.Error;
}

export function printJson(value: unknown): void {
  process.stdout.write(jsonText(value, 2) + '\n');
}

/** Human output on stdout, with terminal control sequences removed (text may come from a workspace). */
export function writeOut(text: string): void {
  process.stdout.write(terminalSafe(text));
}

/** The same on stderr. */
export function writeErr(text: string): void {
  process.stderr.write(terminalSafe(text));
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
}

/** A plain aligned table; the last column is not padded. */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => c.value(r)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (i === vals.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

/**
 * `[2/5] Syncing code 1.2 s` lines on stderr, each once its step is done. A step still going after
 * a moment (a wait for another command, an image build) is also said when it has lasted that long,
 * `[1/5] Waiting for …`, so a long wait is never silent. The counter never goes backwards: a
 * step said again later (a retry, a second pass) is shown under the furthest step reached.
 */
export class ProgressPrinter {
  private started = Date.now();
  private current: string | undefined;
  private reached = 0;
  private slow: NodeJS.Timeout | undefined;

  constructor(
    private readonly enabled = true,
    private readonly slowMs = 2000,
  ) {}

  step(step: number, total: number, message: string): void {
    this.finish();
    this.reached = Math.max(this.reached, Math.min(step, total));
    const line = `[${this.reached}/${total}] ${message}`;
    this.current = line;
    this.started = Date.now();
    if (this.enabled) {
      this.slow = setTimeout(() => {
        if (this.current === line) writeErr(`${line}…\n`);
      }, this.slowMs);
      this.slow.unref();
    }
  }

  /** Closes the current step with its duration. */
  finish(): void {
    clearTimeout(this.slow);
    if (this.current === undefined) return;
    // Steps relay the agent's progress, e.g. the lines of an image build.
    if (this.enabled) writeErr(`${this.current} ${formatSeconds(Date.now() - this.started)}\n`);
    this.current = undefined;
  }
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
