/**
 * What `vendetta mcp` tells the coordinator: one record per tool call, for the coordinator's log
 * (who did what to which workspace, how long it took, how it ended — never file contents or
 * command output).
 */
import { RequestType } from 'vscode-jsonrpc';
import type { ErrorData } from './errors';

export interface ToolCallRecord {
  /** The MCP tool name (`exec`, `read_file`, …). */
  tool: string;
  workspace?: string;
  node?: string;
  durationMs: number;
  ok: boolean;
  /** The command's exit code (exec), null when it was killed on timeout. */
  exitCode?: number | null;
  /** The error code when the call failed (`WORKSPACE_NOT_FOUND`, `PATH_OUTSIDE`, …). */
  error?: string;
}

export const LogToolCallRequest = new RequestType<ToolCallRecord, { logged: boolean }, ErrorData>('mcp/logToolCall');
