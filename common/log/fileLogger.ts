/**
 * JSON-lines log, one object a line: {time, level, pid, ...base, msg, ...fields}, rotated by size
 * (x.log → x.log.1 → … → x.log.<keep>). Appends are synchronous so that the line explaining a
 * crash is on disk before the process goes; agent and coordinator log little enough for that to
 * be cheap. Appends go by path, not a held descriptor: several processes (the agent's daemon,
 * attach and sync-receive) share one file and any of them may rotate it.
 */
import { appendFileSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { causeMessages } from '../errors/causes';
import { fileSize } from '../fs/files';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}

/** Discards everything: for code paths (and tests) that have nowhere to log. */
export const nullLogger: Logger = {
  log: () => undefined,
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};

export interface FileLoggerOptions {
  maxBytes?: number;
  /** Rotated files kept beside the live one. */
  keep?: number;
  /** Lowest level written; info by default. */
  level?: LogLevel;
  /** Added to every line (e.g. {role: 'daemon'}). */
  base?: Record<string, unknown>;
  /** Also write a short human line here (the foreground `coordinator run` on a terminal). */
  mirror?: NodeJS.WritableStream;
  /** Create the log's folder (private) if it is missing. */
  createDir?: boolean;
}

export class FileLogger implements Logger {
  private size: number;
  private closed = false;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly level: LogLevel;

  constructor(
    readonly file: string,
    private readonly opts: FileLoggerOptions = {},
  ) {
    this.maxBytes = opts.maxBytes ?? 5 * 1024 * 1024;
    this.keep = opts.keep ?? 3;
    this.level = opts.level ?? 'info';
    if (opts.createDir) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    this.size = fileSize(file);
  }

  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (this.closed || RANK[level] > RANK[this.level]) return;
    const line =
      JSON.stringify({
        time: new Date().toISOString(),
        level,
        pid: process.pid,
        ...this.opts.base,
        msg: message,
        ...serializeFields(fields),
      }) + '\n';
    this.append(line);
    if (this.opts.mirror) this.opts.mirror.write(`${level}: ${message}\n`);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.log('error', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.log('warn', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.log('info', message, fields);
  }
  debug(message: string, fields?: Record<string, unknown>): void {
    this.log('debug', message, fields);
  }

  /** Later lines are dropped (a process on its way out). */
  close(): void {
    this.closed = true;
  }

  private append(line: string): void {
    try {
      const bytes = Buffer.byteLength(line);
      // Another process may have rotated the file meanwhile: trust the disk when near the limit.
      if (this.size + bytes > this.maxBytes) this.size = fileSize(this.file);
      if (this.size + bytes > this.maxBytes && this.size > 0) this.rotate();
      appendFileSync(this.file, line, { mode: 0o600 });
      this.size += bytes;
    } catch {
      // A full disk or a removed log folder must not take the process down; the line is lost.
    }
  }

  private rotate(): void {
    rmSync(`${this.file}.${this.keep}`, { force: true });
    for (let i = this.keep - 1; i >= 1; i--) {
      try {
        renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
      } catch {
        // that generation does not exist yet
      }
    }
    try {
      renameSync(this.file, `${this.file}.1`);
    } catch {
      // already rotated by another process
    }
    this.size = 0;
  }
}

/** Errors become {message, code, causes} so the chain survives JSON. */
function serializeFields(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!fields) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) {
      const code = (v as { code?: unknown }).code;
      out[k] = {
        message: v.message,
        ...(code !== undefined ? { code } : {}),
        causes: causeMessages(v.cause),
        stack: v.stack,
      };
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** `VENDETTA_LOG_LEVEL` (error, warn, info, debug); anything else means info. */
export function logLevelFrom(value: string | undefined): LogLevel {
  return value !== undefined && Object.hasOwn(RANK, value) ? (value as LogLevel) : 'info';
}
