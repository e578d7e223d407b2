/**
 * `spec.lxc`, checked at the agent's boundary: what reaches LXD's instance config is an image
 * name, profile names, a member name and values for an allow-list of config keys — nothing that
 * could make the instance privileged or mount more of the node.
 */
import { ALLOWED_CONFIG_KEYS, STOP_GRACE_KEY } from '../providers/lxc/api';
import type { LxcWorkspaceSpec } from '../protocol';
import { CONTROL, isObj } from './specChecks';

const IMAGE = /^[A-Za-z0-9][A-Za-z0-9_.:/@-]{0,254}$/;
const LXD_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const MAX_PROFILES = 32;

export function validLxc(v: unknown, invalid: (what: string) => Error): LxcWorkspaceSpec {
  if (!isObj(v)) throw invalid('spec.lxc must be an object with an image');
  if (typeof v.image !== 'string' || !IMAGE.test(v.image))
    throw invalid(
      `spec.lxc.image must be an LXD image alias or fingerprint, got ${JSON.stringify(v.image)?.slice(0, 80)}`,
    );
  const out: LxcWorkspaceSpec = { image: v.image };
  if (v.profiles !== undefined) {
    if (
      !Array.isArray(v.profiles) ||
      v.profiles.length > MAX_PROFILES ||
      !v.profiles.every((p) => typeof p === 'string' && LXD_NAME.test(p))
    ) {
      throw invalid(`spec.lxc.profiles must list up to ${MAX_PROFILES} LXD profile names`);
    }
    out.profiles = [...(v.profiles as string[])];
  }
  if (v.config !== undefined) {
    if (!isObj(v.config)) throw invalid('spec.lxc.config must be an object of strings');
    const config: Record<string, string> = {};
    for (const [k, val] of Object.entries(v.config)) {
      if (!(ALLOWED_CONFIG_KEYS as readonly string[]).includes(k))
        throw invalid(
          `spec.lxc.config may set only ${ALLOWED_CONFIG_KEYS.join(', ')}, not ${JSON.stringify(k).slice(0, 80)}`,
        );
      if (typeof val !== 'string' || CONTROL.test(val) || val.length > 200)
        throw invalid(`spec.lxc.config.${k} must be a one-line string`);
      if (k === STOP_GRACE_KEY && !/^\d{1,6}$/.test(val))
        throw invalid(`spec.lxc.config.${k} must be whole seconds, got ${JSON.stringify(val).slice(0, 40)}`);
      config[k] = val;
    }
    out.config = config;
  }
  if (v.target !== undefined) {
    if (typeof v.target !== 'string' || !LXD_NAME.test(v.target.replace(/^@/, '')))
      throw invalid(
        `spec.lxc.target must name a cluster member or @group, got ${JSON.stringify(v.target)?.slice(0, 80)}`,
      );
    out.target = v.target;
  }
  for (const [key, max, integer] of [
    ['cpus', 1024, false],
    ['memoryBytes', 2 ** 50, true],
  ] as const) {
    const n = v[key];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isSafeInteger(n)))
      throw invalid(`spec.lxc.${key} must be a positive ${integer ? 'whole ' : ''}number up to ${max}`);
    out[key] = n;
  }
  return out;
}
