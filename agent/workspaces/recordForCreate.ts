/**
 * The record a create works from: a new one, the cut-short create's with this spec, or a made
 * workspace's with only what may change after it was made taken from this spec.
 */
import { AgentError } from '../errors';
import type { WorkspaceSpec } from '../protocol';
import { choosePorts, chooseSshPort, portMap, type PortChoice, type PortProbe } from '../services/ports';
import { newWorkspaceRecord } from './newRecord';
import type { WorkspaceRecord } from './state';

export function recordForCreate(
  home: string,
  existing: WorkspaceRecord | undefined,
  spec: WorkspaceSpec,
): WorkspaceRecord {
  if (!existing) return newWorkspaceRecord(home, spec);
  if (existing.phase === 'creating') return { ...existing, spec }; // a cut-short create: this spec wins
  // Made: only keys, services, hooks, agent forwarding, the idle timeout, git identity and secrets change (services are run through exec,
  // the sshd config is rewritten and reloaded), not what the container was made with.
  return {
    ...existing,
    spec: { ...withoutChangeable(existing.spec), authorizedKeys: spec.authorizedKeys, ...changeable(spec) },
  };
}

/** Errors of a config that cannot work: a first create that fails with one leaves nothing behind. */
const HOPELESS_CREATE_CODES = [
  'IMAGE_NOT_FOUND',
  'IMAGE_PULL_DENIED',
  'IMAGE_PLATFORM_MISMATCH',
  'IMAGE_PULL_FAILED',
  'SSHD_MISSING',
  'FEATURE_NOT_FOUND',
  'FEATURE_INVALID',
  'FEATURE_CYCLE',
  'FEATURE_INSTALL_FAILED',
  'WORKSPACE_CONFLICT',
];

export function hopelessCreate(err: unknown): boolean {
  return err instanceof AgentError && HOPELESS_CREATE_CODES.includes(err.code);
}

function changeable(
  spec: WorkspaceSpec,
): Pick<WorkspaceSpec, 'services' | 'hooks' | 'forwardAgent' | 'idleTimeoutMs' | 'gitIdentity' | 'secretNames'> {
  return {
    ...(spec.services ? { services: spec.services } : {}),
    ...(spec.hooks ? { hooks: spec.hooks } : {}),
    ...(spec.forwardAgent ? { forwardAgent: true } : {}),
    ...(spec.idleTimeoutMs ? { idleTimeoutMs: spec.idleTimeoutMs } : {}),
    ...(spec.gitIdentity ? { gitIdentity: spec.gitIdentity } : {}),
    ...(spec.secretNames ? { secretNames: spec.secretNames } : {}),
  };
}

function withoutChangeable(spec: WorkspaceSpec): WorkspaceSpec {
  const out = { ...spec };
  delete out.services;
  delete out.hooks;
  delete out.forwardAgent;
  delete out.idleTimeoutMs;
  delete out.gitIdentity;
  delete out.secretNames;
  return out;
}

/**
 * Node ports for the SSH server and the service ports of a workspace about to be made. An adopted
 * one already has its bindings: its remembered ports stand (no `choices`).
 */
export async function withNodePorts(
  rec: WorkspaceRecord,
  adopting: boolean,
  probe: PortProbe,
): Promise<{ rec: WorkspaceRecord & { sshPort: number }; choices?: PortChoice[] }> {
  const wanted = (rec.spec.services ?? []).flatMap((s) => (s.port !== undefined ? [s.port] : []));
  const remembered = rec.servicePorts ?? {};
  if (adopting && rec.sshPort !== undefined && wanted.every((p) => remembered[String(p)] !== undefined))
    return { rec: { ...rec, sshPort: rec.sshPort } };
  const choices = await choosePorts(wanted, remembered, probe);
  const sshPort = await chooseSshPort(rec.sshPort, choices, probe);
  return { rec: { ...rec, sshPort, servicePorts: portMap(choices) }, choices };
}
