/**
 * The coordinator's log: JSON lines in `$VENDETTA_HOME/logs/coordinator.log`, rotated by size
 * (coordinator.log → .1 → .2 …). Writes are synchronous so that the line explaining a crash is
 * on disk before the process goes; the coordinator logs little enough for that to be cheap.
 */
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { causeMessages } from '../common/errors/causes';
import type { Logger, LogLevel } from './log';

export interface FileLoggerOptions {
  dir: string;
  /** File name inside `dir`. */
  name?: string;
  maxBytes?: number;
  /** Rotated files kept beside the live one. */
  keep?: number;
  /** Lowest level written. */
  level?: LogLevel;
  /** Also write a short human line here (the foreground `coordinator run` on a terminal). */
  mirror?: NodeJS.WritableStream;
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export class FileLogger implements Logger {
  readonly file: string;
  private fd: number | undefined;
  private size = 0;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly level: LogLevel;

  constructor(private readonly opts: FileLoggerOptions) {
    this.file = join(opts.dir, opts.name ?? 'coordinator.log');
    this.maxBytes = opts.maxBytes ?? 5 * 1024 * 1024;
    this.keep = opts.keep ?? 3;
    this.level = opts.level ?? 'debug';
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    this.open();
  }

  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (RANK[level] > RANK[this.level]) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, pid: process.pid, msg: message, ...serializeFields(fields) }) + '\n';
    this.write(line);
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

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private open(): void {
    this.fd = openSync(this.file, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  private write(line: string): void {
    try {
      if (this.fd === undefined) return;
      const bytes = Buffer.byteLength(line);
      if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
      writeSync(this.fd, line);
      this.size += bytes;
    } catch {
      // A full disk must not take the coordinator down with it; the line is lost.
    }
  }

  private rotate(): void {
    this.close();
    rmSync(`${this.file}.${this.keep}`, { force: true });
    for (let i = this.keep - 1; i >= 1; i--) {
      try {
        renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
      } catch {
        // that generation does not exist yet
      }
    }
    renameSync(this.file, `${this.file}.1`);
    this.open();
  }
}

/** Errors become `{message, code, causes}` so the chain survives JSON. */
function serializeFields(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!fields) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) {
      const code = (v as { code?: unknown }).code;
      out[k] = { message: v.message, ...(code !== undefined ? { code } : {}), causes: causeMessages(v.cause), stack: v.stack };
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
