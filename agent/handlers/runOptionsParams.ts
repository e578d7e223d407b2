/**
 * spec.docker.run, checked at the agent's boundary: shapes and sizes, mount paths absolute and
 * normalized, and no mount over the workspace folder (the synced project would be hidden behind
 * it, and the sync would write where the workspace no longer looks). Where a bind source leads
 * is checked before anything is made by the Docker provider's `refusal`, given the agent's own
 * folder (providers/docker/runOptions.ts mountRefusal).
 */
import { posix } from 'node:path';
import type { DockerRunOptions } from '../protocol';
import { AgentError } from '../errors';
import { isObj } from './specChecks';

const MAX_ITEMS = 100;
const MOUNT_TYPES = ['bind', 'volume', 'tmpfs'] as const;

function invalid(m: string, what: string): AgentError {
  return new AgentError('INVALID_PARAMS', `Invalid params for ${m}: ${what}`, {
    hint: 'Fix the workspace config; the agent changed nothing.',
  });
}

function absolutePath(m: string, what: string, v: unknown): string {
  const trimmed = typeof v === 'string' ? v.replace(/(.)\/+$/, '$1') : '';
  if (
    typeof v !== 'string' ||
    !v.startsWith('/') ||
    v.length > 4096 ||
    [...v].some((ch) => ch.charCodeAt(0) < 0x20) ||
    posix.normalize(trimmed) !== trimmed
  ) {
    throw invalid(m, `${what} must be an absolute, normalized path, got ${JSON.stringify(v)?.slice(0, 80)}`);
  }
  return trimmed;
}

function strings(m: string, what: string, v: unknown, pattern: RegExp): string[] {
  if (!Array.isArray(v) || v.length > MAX_ITEMS || !v.every((s) => typeof s === 'string' && pattern.test(s)))
    throw invalid(m, `${what} must be a list of up to ${MAX_ITEMS} strings like ${pattern.source}`);
  return [...(v as string[])];
}

export function validRunOptions(m: string, v: unknown, workspaceFolder: string): DockerRunOptions {
  if (!isObj(v)) throw invalid(m, 'spec.docker.run must be an object');
  const out: DockerRunOptions = {};
  if (v.mounts !== undefined) {
    if (!Array.isArray(v.mounts) || v.mounts.length > MAX_ITEMS)
      throw invalid(m, `spec.docker.run.mounts must be a list of up to ${MAX_ITEMS} mounts`);
    out.mounts = v.mounts.map((x, i) => {
      const what = `spec.docker.run.mounts[${i}]`;
      if (!isObj(x) || !MOUNT_TYPES.includes(x.type as (typeof MOUNT_TYPES)[number]))
        throw invalid(m, `${what}.type must be one of ${MOUNT_TYPES.join(', ')}`);
      const type = x.type as (typeof MOUNT_TYPES)[number];
      const target = absolutePath(m, `${what}.target`, x.target);
      if (
        target === '/' ||
        target === workspaceFolder ||
        target.startsWith(`${workspaceFolder}/`) ||
        workspaceFolder.startsWith(`${target}/`)
      ) {
        throw invalid(
          m,
          `${what}.target ${target} would cover the workspace folder ${workspaceFolder} (the synced project) or hold it`,
        );
      }
      const mount: NonNullable<DockerRunOptions['mounts']>[number] = { type, target };
      if (type === 'bind') mount.source = absolutePath(m, `${what}.source`, x.source);
      else if (type === 'volume') {
        if (typeof x.source !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(x.source))
          throw invalid(m, `${what}.source must name a volume (letters, digits, _ . -)`);
        mount.source = x.source;
      } else if (x.source !== undefined) throw invalid(m, `${what}: a tmpfs mount has no source`);
      if (x.readonly !== undefined) {
        if (typeof x.readonly !== 'boolean') throw invalid(m, `${what}.readonly must be true or false`);
        if (x.readonly) mount.readonly = true;
      }
      return mount;
    });
  }
  for (const k of ['privileged', 'init'] as const) {
    if (v[k] === undefined) continue;
    if (typeof v[k] !== 'boolean') throw invalid(m, `spec.docker.run.${k} must be true or false`);
    if (v[k]) out[k] = true;
  }
  if (v.capAdd !== undefined) out.capAdd = strings(m, 'spec.docker.run.capAdd', v.capAdd, /^[A-Za-z_]{1,64}$/);
  if (v.securityOpt !== undefined)
    out.securityOpt = strings(
      m,
      'spec.docker.run.securityOpt',
      v.securityOpt,
      /^[A-Za-z][A-Za-z_-]*([=:][^\s]{0,1000})?$/,
    );
  if (v.devices !== undefined)
    out.devices = strings(
      m,
      'spec.docker.run.devices',
      v.devices,
      /^\/[^\s:]+(:\/[^\s:]+)?(:[rwm]+)?$|^\/[^\s:]+:[rwm]+$/,
    );
  if (v.gpus !== undefined) {
    if (typeof v.gpus !== 'string' || !/^(all|[0-9]{1,4})$/.test(v.gpus))
      throw invalid(m, 'spec.docker.run.gpus must be "all" or a number');
    out.gpus = v.gpus;
  }
  if (v.shmSizeBytes !== undefined) {
    if (typeof v.shmSizeBytes !== 'number' || !Number.isSafeInteger(v.shmSizeBytes) || v.shmSizeBytes <= 0)
      throw invalid(m, 'spec.docker.run.shmSizeBytes must be a whole number of bytes');
    out.shmSizeBytes = v.shmSizeBytes;
  }
  if (v.ulimits !== undefined) {
    if (!Array.isArray(v.ulimits) || v.ulimits.length > MAX_ITEMS)
      throw invalid(m, 'spec.docker.run.ulimits must be a list');
    out.ulimits = v.ulimits.map((u, i) => {
      if (
        !isObj(u) ||
        typeof u.name !== 'string' ||
        !/^[a-z]{1,20}$/.test(u.name) ||
        !Number.isSafeInteger(u.soft) ||
        !Number.isSafeInteger(u.hard)
      )
        throw invalid(m, `spec.docker.run.ulimits[${i}] must be {name, soft, hard}`);
      return { name: u.name, soft: u.soft as number, hard: u.hard as number };
    });
  }
  if (v.labels !== undefined) {
    if (!isObj(v.labels) || Object.keys(v.labels).length > MAX_ITEMS)
      throw invalid(m, 'spec.docker.run.labels must be an object of strings');
    const labels: Record<string, string> = {};
    for (const [k, val] of Object.entries(v.labels)) {
      if (k.length === 0 || k.length > 256 || typeof val !== 'string' || val.length > 4096)
        throw invalid(m, `spec.docker.run.labels.${k.slice(0, 80)} must be a string`);
      labels[k] = val;
    }
    out.labels = labels;
  }
  return out;
}
