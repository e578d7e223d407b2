/** The coordinator's logger interface; the daemon writes JSON lines to `$VENDETTA_HOME/logs/`. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

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
