/**
 * Agent replies are validated like any other input: a node running a broken or foreign agent
 * gets a clear AGENT_ERROR instead of a crash somewhere later.
 */
import type { NodeInfo, PingResult } from '../../agent/protocol';
import { VendettaError } from '../errors';

type Obj = Record<string, unknown>;

export function checkNodeInfo(raw: unknown, node: string): NodeInfo {
  const o = obj(raw, 'node/inspect', node);
  const sys = obj(o.system, 'node/inspect system', node);
  const prov = obj(o.providers, 'node/inspect providers', node);
  str(o.agentVersion, 'agentVersion', node);
  for (const k of ['hostname', 'os', 'arch', 'kernel', 'nodeVersion']) str(sys[k], `system.${k}`, node);
  for (const k of [
    'cpus',
    'memoryTotalBytes',
    'memoryAvailableBytes',
    'diskFreeBytes',
    'diskTotalBytes',
    'uptimeSeconds',
  ])
    num(sys[k], `system.${k}`, node);
  const load = sys.load;
  if (!Array.isArray(load) || load.length !== 3 || !load.every((x) => typeof x === 'number')) bad('system.load', node);
  for (const p of ['docker', 'lxc', 'qemu']) {
    const s = obj(prov[p], `providers.${p}`, node);
    if (typeof s.available !== 'boolean') bad(`providers.${p}.available`, node);
    if (s.version !== undefined) str(s.version, `providers.${p}.version`, node);
    if (s.error !== undefined) str(s.error, `providers.${p}.error`, node);
  }
  if (typeof (prov.qemu as Obj).kvm !== 'boolean') bad('providers.qemu.kvm', node);
  return raw as NodeInfo;
}

export function checkPing(raw: unknown, node: string): PingResult {
  const o = obj(raw, 'agent/ping', node);
  num(o.now, 'now', node);
  return raw as PingResult;
}

function obj(v: unknown, what: string, node: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(what, node);
  return v as Obj;
}
function str(v: unknown, what: string, node: string): void {
  if (typeof v !== 'string') bad(what, node);
}
function num(v: unknown, what: string, node: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) bad(what, node);
}
function bad(what: string, node: string): never {
  throw new VendettaError('AGENT_ERROR', `The agent on ${node} sent a malformed reply (${what})`, {
    node,
    hint: `The agent may be from another vendetta version: \`vendetta node remove ${node} --purge\`, then add it again.`,
  });
}
