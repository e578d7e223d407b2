/**
 * Service logs on the node: one JSON-lines file per service (and per hook) under the workspace's
 * folder in the agent home, `{"time","stream","line"}` a line, rotated at a size cap (one old
 * file kept). Appends are synchronous and small: a line is on disk before anyone is told of it.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceLogLine } from '../protocol';

export const LOG_MAX_BYTES = 5 * 1024 * 1024;
/** One line is cut here: a service printing without newlines cannot grow a line without end. */
export const MAX_LINE_CHARS = 16 * 1024;

export class ServiceLogFiles {
  private readonly sizes = new Map<string, number>();

  constructor(readonly dir: string, private readonly maxBytes = LOG_MAX_BYTES) {}

  fileOf(source: string): string {
    return join(this.dir, `${source}.log`);
  }

  append(line: ServiceLogLine): void {
    const file = this.fileOf(line.service);
    const text = JSON.stringify({ time: line.time, stream: line.stream, line: line.line }) + '\n';
    let size = this.sizes.get(file);
    if (size === undefined) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      size = sizeOf(file);
    }
    if (size > 0 && size + text.length > this.maxBytes) {
      renameSync(file, `${file}.1`);
      size = 0;
    }
    appendFileSync(file, text, { mode: 0o600 });
    this.sizes.set(file, size + Buffer.byteLength(text));
  }

  /** Every source with a log (services and hooks). */
  sources(): string[] {
    try {
      return readdirSync(this.dir).filter((f) => f.endsWith('.log')).map((f) => f.slice(0, -4)).sort();
    } catch {
      return [];
    }
  }

  /** One source's lines, oldest first (the rotated file, then the current one). */
  read(source: string): ServiceLogLine[] {
    const out: ServiceLogLine[] = [];
    for (const file of [`${this.fileOf(source)}.1`, this.fileOf(source)]) out.push(...parseLogText(readText(file), source));
    return out;
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
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
      if (typeof v.time === 'string' && typeof v.line === 'string' && (v.stream === 'stdout' || v.stream === 'stderr' || v.stream === 'system')) {
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
