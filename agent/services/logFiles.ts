/**
 * Service logs on the node: one JSON-lines file per service (and per hook) under the workspace's
 * folder in the agent home, `{"time","stream","line"}` a line, rotated at a size cap (one old
 * file kept). Lines are written in one append per file per turn of the event loop, so a chatty
 * service costs a write per burst, not per line; a read writes what is pending first.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { fileSize } from '../../common/fs/files';
import type { ServiceLogLine } from '../protocol';

export const LOG_MAX_BYTES = 5 * 1024 * 1024;
/** One line is cut here: a service printing without newlines cannot grow a line without end. */
export const MAX_LINE_CHARS = 16 * 1024;

export class ServiceLogFiles {
  private readonly sizes = new Map<string, number>();
  private readonly pending = new Map<string, string[]>();
  private scheduled = false;
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly maxBytes = LOG_MAX_BYTES,
    /** Where a failed background write is reported (the lines are dropped). */
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  fileOf(source: string): string {
    return join(this.dir, `${source}.log`);
  }

  append(line: ServiceLogLine): void {
    if (this.closed) return;
    const file = this.fileOf(line.service);
    const text = JSON.stringify({ time: line.time, stream: line.stream, line: line.line }) + '\n';
    const queue = this.pending.get(file);
    if (queue) queue.push(text);
    else this.pending.set(file, [text]);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        try {
          this.flush();
        } catch (err) {
          this.onError(err);
        }
      });
    }
  }

  /** Writes what is pending and takes no more lines (the workspace's folder is about to go). */
  close(): void {
    try {
      this.flush();
    } finally {
      this.closed = true;
    }
  }

  /** Writes every pending line; throws what the file system says (the caller logs it). */
  flush(): void {
    this.scheduled = false;
    if (this.closed) return;
    const batches = [...this.pending];
    this.pending.clear();
    for (const [file, lines] of batches) this.write(file, lines);
  }

  private write(file: string, lines: string[]): void {
    let size = this.sizes.get(file);
    if (size === undefined) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      size = fileSize(file);
    }
    let chunk = '';
    for (const text of lines) {
      // Rotate before a line that would cross the cap; a burst larger than the cap still rotates.
      if (size + Buffer.byteLength(chunk) > 0 && size + Buffer.byteLength(chunk) + text.length > this.maxBytes) {
        if (chunk) appendFileSync(file, chunk, { mode: 0o600 });
        renameSync(file, `${file}.1`);
        size = 0;
        chunk = '';
      }
      chunk += text;
    }
    if (chunk) appendFileSync(file, chunk, { mode: 0o600 });
    this.sizes.set(file, size + Buffer.byteLength(chunk));
  }

  /** Every source with a log (services and hooks). */
  sources(): string[] {
    this.flush();
    try {
      return readdirSync(this.dir)
        .filter((f) => f.endsWith('.log'))
        .map((f) => f.slice(0, -4))
        .sort();
    } catch {
      return [];
    }
  }

  /** One source's lines, oldest first (the rotated file, then the current one). */
  read(source: string): ServiceLogLine[] {
    this.flush();
    const out: ServiceLogLine[] = [];
    for (const file of [`${this.fileOf(source)}.1`, this.fileOf(source)])
      out.push(...parseLogText(readText(file), source));
    return out;
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Lines that do not parse (a write cut by a crash) are skipped. */
export function parseLogText(text: string, service: string): ServiceLogLine[] {
  const out: ServiceLogLine[] = [];
  for (const raw of text.split('\n')) {
    if (!raw) continue;
    try {
      const v = JSON.parse(raw) as Partial<ServiceLogLine>;
      if (
        typeof v.time === 'string' &&
        typeof v.line === 'string' &&
        (v.stream === 'stdout' || v.stream === 'stderr' || v.stream === 'system')
      ) {
        out.push({ time: v.time, service, stream: v.stream, line: v.line });
      }
    } catch {
      // a torn line
    }
  }
  return out;
}

export interface LogQuery {
  service?: string;
  tail?: number;
  since?: string;
}

/**
 * Several sources' lines interleaved by time (a stable merge: lines of one source keep their
 * order), filtered by `since`, then the last `tail` of the whole selection.
 */
export function selectLines(perSource: ReadonlyArray<readonly ServiceLogLine[]>, q: LogQuery): ServiceLogLine[] {
  const sinceMs = q.since !== undefined ? Date.parse(q.since) : undefined;
  const all: Array<{ l: ServiceLogLine; t: number; i: number }> = [];
  let i = 0;
  for (const lines of perSource) {
    for (const l of lines) {
      const t = Date.parse(l.time);
      if (sinceMs !== undefined && !(t >= sinceMs)) continue;
      all.push({ l, t, i: i++ });
    }
  }
  all.sort((a, b) => a.t - b.t || a.i - b.i);
  const picked = q.tail !== undefined ? all.slice(Math.max(0, all.length - q.tail)) : all;
  return picked.map((x) => x.l);
}

/** Splits a byte stream into lines; a partial last line waits for more (or `flush`). */
export class LineSplitter {
  private partial = '';

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const p of parts) this.emit(trimLine(p));
    while (this.partial.length > MAX_LINE_CHARS) {
      this.emit(this.partial.slice(0, MAX_LINE_CHARS));
      this.partial = this.partial.slice(MAX_LINE_CHARS);
    }
  }

  flush(): void {
    if (this.partial) this.emit(trimLine(this.partial));
    this.partial = '';
  }
}

function trimLine(s: string): string {
  const l = s.endsWith('\r') ? s.slice(0, -1) : s;
  return l.length > MAX_LINE_CHARS ? l.slice(0, MAX_LINE_CHARS) : l;
}
