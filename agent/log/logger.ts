/** The agent logs through the shared JSON-lines file logger (agent.log, shared by its processes). */
export {
  FileLogger,
  nullLogger,
  type FileLoggerOptions,
  type Logger,
  type LogLevel,
} from '../../common/log/fileLogger';
