/**
 * `mcp/logToolCall`: `vendetta mcp` reports every tool call here, so the coordinator's log shows
 * what coding agents did to workspaces (tool, workspace, duration, exit code). The record has no
 * field for file contents or command output, and unknown fields are refused.
 */
import { VendettaError } from '../errors';
import type { Logger } from '../log';
import type { ToolCallRecord } from '../protocol';
import type { Handler } from './handlerTable';
import * as v from './validate';

const TOOL = /^[a-z][a-z0-9_]{0,63}$/;
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

export function validateToolCall(raw: unknown): ToolCallRecord {
  const p = v.paramsObject(raw, 'mcp/logToolCall', [
    'tool',
    'workspace',
    'node',
    'durationMs',
    'ok',
    'exitCode',
    'error',
  ]);
  if (typeof p.tool !== 'string' || !TOOL.test(p.tool)) {
    throw new VendettaError('INVALID_PARAMS', 'mcp/logToolCall: tool must be a tool name like read_file', {
      hint: 'Lowercase letters, digits and "_", up to 64.',
    });
  }
  if (typeof p.durationMs !== 'number' || !Number.isFinite(p.durationMs) || p.durationMs < 0) {
    throw new VendettaError('INVALID_PARAMS', 'mcp/logToolCall: durationMs must be a number ≥ 0', {
      hint: "Send the call's duration in milliseconds.",
    });
  }
  const out: ToolCallRecord = { tool: p.tool, durationMs: Math.round(p.durationMs), ok: v.boolean(p.ok, 'ok') };
  const workspace = v.optional(p.workspace, (x) => v.nodeName(x, 'workspace'));
  if (workspace !== undefined) out.workspace = workspace;
  const node = v.optional(p.node, (x) => v.nodeName(x, 'node'));
  if (node !== undefined) out.node = node;
  if (p.exitCode !== undefined) {
    if (
      p.exitCode !== null &&
      (typeof p.exitCode !== 'number' || !Number.isInteger(p.exitCode) || p.exitCode < 0 || p.exitCode > 255)
    ) {
      throw new VendettaError('INVALID_PARAMS', 'mcp/logToolCall: exitCode must be 0–255 or null', {
        hint: 'null means the command was killed.',
      });
    }
    out.exitCode = p.exitCode;
  }
  if (p.error !== undefined) {
    if (typeof p.error !== 'string' || !ERROR_CODE.test(p.error)) {
      throw new VendettaError(
        'INVALID_PARAMS',
        'mcp/logToolCall: error must be an error code like WORKSPACE_NOT_FOUND',
        { hint: 'Send the code, not the message.' },
      );
    }
    out.error = p.error;
  }
  return out;
}

export function toolCallLogHandler(log: Logger): Handler<ToolCallRecord, { logged: boolean }> {
  return {
    validate: validateToolCall,
    run(p, ctx) {
      log.info(`mcp tool ${p.tool}${p.ok ? '' : ' failed'}`, {
        client: ctx.client.id,
        clientName: ctx.client.initialized?.client.name,
        ...p,
      });
      return { logged: true };
    },
  };
}
