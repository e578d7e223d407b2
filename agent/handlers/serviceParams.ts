/**
 * Services params, checked at the agent's boundary: WorkspaceSpec.services and .hooks (inside
 * workspaces/create) and the services/* requests. Commands are only checked for shape: they run
 * inside the workspace exactly as written (a string through its /bin/sh, argv as is).
 */
import {
  HOOK_NAMES,
  NAME_PATTERN,
  type HookCommand,
  type ServiceCommand,
  type ServiceHealthcheckSpec,
  type ServiceLogsParams,
  type ServiceNameParams,
  type ServiceSpec,
  type WorkspaceHooksSpec,
} from '../protocol';
import { AgentError } from '../errors';
import { isObj, type Obj } from './specChecks';

function invalid(method: string, what: string): AgentError {
  return new AgentError('INVALID_PARAMS', `Invalid params for ${method}: ${what}`, {
    hint: 'Fix the workspace config; the agent changed nothing.',
  });
}

const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const MAX_SERVICES = 100;
const MAX_COMMAND = 64 * 1024;
const MAX_ARGS = 1000;
const DAY_MS = 24 * 3600_000;
/** Hook names share the log namespace with services; NAME_PATTERN is lowercase, so they never clash. */
const RESTARTS = ['no', 'on-failure', 'always'] as const;

export function validCommand(m: string, what: string, v: unknown): ServiceCommand {
  if (typeof v === 'string') {
    if (v.trim().length === 0 || v.length > MAX_COMMAND || v.includes('\0'))
      throw invalid(m, `${what} must be a non-empty command of up to ${MAX_COMMAND} characters without NUL`);
    return v;
  }
  if (
    Array.isArray(v) &&
    v.length > 0 &&
    v.length <= MAX_ARGS &&
    v.every((a) => typeof a === 'string' && !a.includes('\0') && a.length <= MAX_COMMAND) &&
    (v[0] as string).length > 0
  ) {
    return [...(v as string[])];
  }
  throw invalid(m, `${what} must be a string or a non-empty list of strings`);
}

function int(m: string, what: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    throw invalid(m, `${what} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)?.slice(0, 40)}`);
  return v;
}

function validHealthcheck(m: string, what: string, v: unknown): ServiceHealthcheckSpec {
  if (!isObj(v)) throw invalid(m, `${what} must be an object`);
  const timing = {
    intervalMs: int(m, `${what}.intervalMs`, v.intervalMs, 1, DAY_MS),
    timeoutMs: int(m, `${what}.timeoutMs`, v.timeoutMs, 1, DAY_MS),
    retries: int(m, `${what}.retries`, v.retries, 1, 100_000),
    startPeriodMs: int(m, `${what}.startPeriodMs`, v.startPeriodMs, 0, DAY_MS),
  };
  if (v.kind === 'http') {
    let url: URL | undefined;
    try {
      url = typeof v.url === 'string' && v.url.length <= 2048 ? new URL(v.url) : undefined;
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw invalid(m, `${what}.url must be an http:// or https:// URL`);
    return { kind: 'http', url: v.url as string, ...timing };
  }
  if (v.kind === 'tcp') return { kind: 'tcp', port: int(m, `${what}.port`, v.port, 1, 65535), ...timing };
  if (v.kind === 'command')
    return { kind: 'command', command: validCommand(m, `${what}.command`, v.command), ...timing };
  throw invalid(m, `${what}.kind must be http, tcp or command`);
}

function validServiceEnv(m: string, what: string, v: unknown): Record<string, string> {
  if (v === undefined) return {};
  if (!isObj(v)) throw invalid(m, `${what} must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (!ENV_NAME_PATTERN.test(k))
      throw invalid(m, `${what}: ${JSON.stringify(k.slice(0, 80))} is not a valid variable name`);
    if (typeof val !== 'string' || val.includes('\0') || val.length > 32 * 1024)
      throw invalid(m, `${what}.${k} must be a string without NUL`);
    out[k] = val;
  }
  return out;
}

/** In start order: each service's dependencies come before it (the coordinator sends them so). */
export function validServices(m: string, v: unknown): ServiceSpec[] {
  if (!Array.isArray(v) || v.length > MAX_SERVICES)
    throw invalid(m, `spec.services must be a list of up to ${MAX_SERVICES} services`);
  const seen = new Set<string>();
  const ports = new Set<number>();
  return v.map((s, i) => {
    const what = `spec.services[${i}]`;
    if (!isObj(s)) throw invalid(m, `${what} must be an object`);
    if (typeof s.name !== 'string' || !NAME_PATTERN.test(s.name) || seen.has(s.name))
      throw invalid(m, `${what}.name must be a unique name matching ${NAME_PATTERN.source}`);
    const out: ServiceSpec = {
      name: s.name,
      command: validCommand(m, `${what}.command`, s.command),
      env: validServiceEnv(m, `${what}.env`, s.env),
      dependsOn: [],
      restart: 'no',
    };
    if (s.port !== undefined) {
      out.port = int(m, `${what}.port`, s.port, 1, 65535);
      if (ports.has(out.port)) throw invalid(m, `${what}.port ${out.port} is used by another service`);
      ports.add(out.port);
    }
    const deps = s.dependsOn ?? [];
    if (!Array.isArray(deps) || !deps.every((d) => typeof d === 'string' && seen.has(d)))
      throw invalid(m, `${what}.dependsOn must list services that come before ${s.name}`);
    out.dependsOn = [...new Set(deps as string[])];
    if (s.healthcheck !== undefined) out.healthcheck = validHealthcheck(m, `${what}.healthcheck`, s.healthcheck);
    const restart = s.restart ?? 'no';
    if (!RESTARTS.includes(restart as (typeof RESTARTS)[number]))
      throw invalid(m, `${what}.restart must be one of ${RESTARTS.join(', ')}`);
    out.restart = restart as ServiceSpec['restart'];
    seen.add(s.name);
    return out;
  });
}

export function validHooks(m: string, v: unknown): WorkspaceHooksSpec {
  if (!isObj(v)) throw invalid(m, `spec.hooks must be an object {${HOOK_NAMES.map((n) => `${n}?`).join(', ')}}`);
  const out: WorkspaceHooksSpec = {};
  for (const name of HOOK_NAMES)
    if (v[name] !== undefined) out[name] = validHookCommand(m, `spec.hooks.${name}`, v[name]);
  return out;
}

/** A command, or an object of 1 to MAX_PARALLEL named commands (run at the same time). */
function validHookCommand(m: string, what: string, v: unknown): HookCommand {
  if (!isObj(v)) return validCommand(m, what, v);
  const entries = Object.entries(v);
  if (entries.length === 0 || entries.length > MAX_PARALLEL)
    throw invalid(m, `${what} must name 1 to ${MAX_PARALLEL} commands`);
  const out: Record<string, ServiceCommand> = {};
  for (const [label, c] of entries) {
    if (label.length === 0 || label.length > 200 || [...label].some((ch) => ch.charCodeAt(0) < 0x20))
      throw invalid(m, `${what}: ${JSON.stringify(label.slice(0, 80))} is not a usable command name`);
    out[label] = validCommand(m, `${what}.${label}`, c);
  }
  return out;
}

const MAX_PARALLEL = 100;

function workspaceAndService(m: string, raw: unknown, hooksToo = false): ServiceNameParams {
  if (!isObj(raw)) throw invalid(m, 'expected an object {workspace, service?}');
  if (typeof raw.workspace !== 'string' || !NAME_PATTERN.test(raw.workspace))
    throw invalid(m, `workspace must match ${NAME_PATTERN.source}`);
  const okService = (v: unknown): boolean =>
    typeof v === 'string' && (NAME_PATTERN.test(v) || (hooksToo && (HOOK_NAMES as readonly string[]).includes(v)));
  if (raw.service !== undefined && !okService(raw.service))
    throw invalid(
      m,
      `service must match ${NAME_PATTERN.source}${hooksToo ? ` or be a hook (${HOOK_NAMES.join(', ')})` : ''}`,
    );
  return { workspace: raw.workspace, ...(raw.service !== undefined ? { service: raw.service as string } : {}) };
}

export const validateServiceNameParams =
  (m: string) =>
  (raw: unknown): ServiceNameParams =>
    workspaceAndService(m, raw);

export function validateWorkspaceOnly(m: string): (raw: unknown) => { workspace: string } {
  return (raw) => {
    const p = workspaceAndService(m, isObj(raw) ? { workspace: raw.workspace } : raw);
    return { workspace: p.workspace };
  };
}

export function validateLogsParams(raw: unknown): ServiceLogsParams {
  const m = 'services/readLogs';
  const base = workspaceAndService(m, raw, true);
  const o = raw as Obj;
  const out: ServiceLogsParams = { ...base };
  if (o.tail !== undefined) out.tail = int(m, 'tail', o.tail, 0, 1_000_000);
  if (o.since !== undefined) {
    if (typeof o.since !== 'string' || Number.isNaN(Date.parse(o.since)))
      throw invalid(m, 'since must be an ISO 8601 time');
    out.since = o.since;
  }
  if (o.follow !== undefined && typeof o.follow !== 'boolean') throw invalid(m, 'follow must be true or false');
  if (o.follow === true) {
    if (typeof o.followToken !== 'string' || o.followToken.length === 0 || o.followToken.length > 200)
      throw invalid(m, 'a follow needs a followToken of 1 to 200 characters');
    out.follow = true;
    out.followToken = o.followToken;
  }
  return out;
}

export function validateUnfollowParams(raw: unknown): { followToken: string } {
  if (
    !isObj(raw) ||
    typeof raw.followToken !== 'string' ||
    raw.followToken.length === 0 ||
    raw.followToken.length > 200
  )
    throw invalid('services/unfollow', 'expected {followToken}');
  return { followToken: raw.followToken };
}

export function validateNodePortParams(raw: unknown): { workspace: string; port: number } {
  const m = 'ports/resolveNodePort';
  const { workspace } = validateWorkspaceOnly(m)(raw);
  return { workspace, port: int(m, 'port', (raw as Obj).port, 1, 65535) };
}
