/**
 * A workspace's container options (DockerRunOptions: devcontainer.json's mounts, runArgs,
 * privileged, capAdd, securityOpt, init) as Engine API HostConfig fields. Pure, like api.ts.
 */
import { AgentError } from '../../errors';
import type { DockerRunOptions } from '../../protocol';

/** The HostConfig fields these options set; `Mounts` are added after the workspace's own. */
export function runHostConfig(run: DockerRunOptions | undefined): {
  mounts: object[];
  fields: Record<string, unknown>;
} {
  const fields: Record<string, unknown> = {};
  if (!run) return { mounts: [], fields };
  const mounts = (run.mounts ?? []).map((m) => ({
    Type: m.type,
    ...(m.source !== undefined ? { Source: m.source } : {}),
    Target: m.target,
    ...(m.readonly ? { ReadOnly: true } : {}),
  }));
  if (run.privileged) fields.Privileged = true;
  if (run.init) fields.Init = true;
  if (run.capAdd?.length) fields.CapAdd = [...run.capAdd];
  if (run.securityOpt?.length) fields.SecurityOpt = [...run.securityOpt];
  if (run.devices?.length) fields.Devices = run.devices.map(deviceMapping);
  if (run.gpus !== undefined)
    fields.DeviceRequests = [
      { Driver: '', Count: run.gpus === 'all' ? -1 : Number(run.gpus), Capabilities: [['gpu']] },
    ];
  if (run.shmSizeBytes !== undefined) fields.ShmSize = run.shmSizeBytes;
  if (run.ulimits?.length) fields.Ulimits = run.ulimits.map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard }));
  return { mounts, fields };
}

/** `/dev/x`, `/dev/x:/dev/y` or `/dev/x:/dev/y:rwm`, as `docker run --device` reads it. */
export function deviceMapping(spec: string): {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
} {
  const [host = '', inside, perms] = spec.split(':');
  const permsOnly = inside !== undefined && perms === undefined && /^[rwm]+$/.test(inside);
  return {
    PathOnHost: host,
    PathInContainer: permsOnly || inside === undefined ? host : inside,
    CgroupPermissions: permsOnly ? inside : (perms ?? 'rwm'),
  };
}

/** A bind source that reaches the agent's own folder (other workspaces' keys, its state) is refused. */
export function mountRefusal(run: DockerRunOptions | undefined, agentHome: string): AgentError | undefined {
  for (const mt of run?.mounts ?? []) {
    if (mt.type !== 'bind' || mt.source === undefined) continue;
    const s = mt.source;
    if (s === agentHome || s.startsWith(`${agentHome}/`) || agentHome.startsWith(`${s === '/' ? '' : s}/`)) {
      return new AgentError(
        'INVALID_PARAMS',
        `The mount of ${s} would give the workspace the agent's own folder ${agentHome}`,
        {
          hint: "It holds every workspace's keys and state on this node; mount a folder that does not contain it.",
        },
      );
    }
  }
  return undefined;
}
