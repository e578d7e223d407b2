/** The coordinator's logger interface; the daemon writes JSON lines to `$VENDETTA_HOME/logs/`. */
export { nullLogger, type Logger, type LogLevel } from '../common/log/fileLogger';
