/**
 * JSON-lines log, one object a line: {time, level, pid, msg, ...fields}. Rotated by size
 * (agent.log → agent.log.1 → … → agent.log.<keep>). Appends are synchronous: the agent logs
 * little, and a line written just before a crash must not be lost.
 */
import { appendFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { causeMessages } from '../../common/errors/causes';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const rank: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
}

export interface FileLoggerOptions {
  maxBytes?: number;
  keep?: number;
  level?: LogLevel;
  /** Added to every line (e.g. {role: 'daemon'}). */
  base?: Record<string, unknown>;
}

export class FileLogger implements Logger {
  private size: number;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly level: LogLevel;

  constructor(private readonly file: string, private readonly opts: FileLoggerOptions = {}) {
    this.maxBytes = opts.maxBytes ?? 5 * 1024 * 1024;
    this.keep = opts.keep ?? 3;
    this.level = opts.level ?? 'info';
    this.size = fileSize(file);
  }

  error(msg: string, fields?: Record<string, unknown>): void { this.write('error', msg, fields); }
  warn(msg: string, fields?: Record<string, unknown>): void { this.write('warn', msg, fields); }
  info(msg: string, fields?: Record<string, unknown>): void { this.write('info', msg, fields); }
  debug(msg: string, fields?: Record<string, unknown>): void { this.write('debug', msg, fields); }

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (rank[level] > rank[this.level]) return;
    const line = JSON.stringify({ time: new Date().toISOString(), level, pid: process.pid, ...this.opts.base, msg, ...serializeFields(fields) }) + '\n';
    try {
      // Another process may have rotated the file under us: trust the disk when near the limit.
      if (this.size + line.length > this.maxBytes) this.size = fileSize(this.file);
      if (this.size + line.length > this.maxBytes && this.size > 0) this.rotate();
      appendFileSync(this.file, line, { mode: 0o600 });
      this.size += Buffer.byteLength(line);
    } catch {
      // A full disk or a removed log folder must not take the agent down.
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

/** Errors become {message, code, causes} so they survive JSON.stringify. */
function serializeFields(fields: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!fields) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) {
      out[k] = { message: v.message, code: (v as { code?: unknown }).code, causes: causeMessages(v.cause), stack: v.stack };
    } else {
      out[k] = v;
    }
  }
  return out;
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** For code paths that run before the home exists, and for tests. */
export const nullLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };
