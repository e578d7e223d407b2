/** Params are checked here, at the boundary, before any handler sees them. */
import type { InitializeParams } from '../protocol';
import { AgentError } from '../errors';

export function invalid(method: string, what: string): AgentError {
  return new AgentError('INVALID_PARAMS', `Invalid params for ${method}: ${what}`, {
    hint: 'The client and the agent disagree about the protocol; upgrade the older one.',
  });
}

/** Methods without params accept none, `{}` or `[]` (clients differ in how they send "nothing"). */
export function expectNoParams(method: string): (raw: unknown) => undefined {
  return (raw) => {
    if (raw === undefined || raw === null) return undefined;
    if (Array.isArray(raw) && raw.length === 0) return undefined;
    if (typeof raw === 'object' && !Array.isArray(raw) && Object.keys(raw).length === 0) return undefined;
    throw invalid(method, 'it takes no parameters');
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function text(method: string, o: Record<string, unknown>, key: string, max: number): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    throw invalid(method, `${key} must be a string of 1 to ${max} characters`);
  if ([...v].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    throw invalid(method, `${key} must not contain control characters`);
  return v;
}

/** Unknown extra fields are ignored: a newer client may send more. */
export function validateInitializeParams(raw: unknown): InitializeParams {
  const m = 'initialize';
  if (!isRecord(raw)) throw invalid(m, 'expected an object {protocolVersion, clientName, clientVersion}');
  const pv = raw.protocolVersion;
  if (typeof pv !== 'number' || !Number.isSafeInteger(pv) || pv < 0)
    throw invalid(m, 'protocolVersion must be a non-negative integer');
  return {
    protocolVersion: pv,
    clientName: text(m, raw, 'clientName', 200),
    clientVersion: text(m, raw, 'clientVersion', 100),
  };
}
