/**
 * What a workspace's container had baked in when it was made: its provider, image (for a built
 * image, the hash of the build inputs is in its tag), env, login user, folder, limits and the
 * service ports published on the node. A config that changes any of these needs a new container;
 * services, hooks and authorized keys do not (they are applied through exec and files).
 * Compared field by field, so `up` can say what differs instead of keeping the old container.
 */
import { builtImagePrefix, specImage, type WorkspaceSpec } from '../protocol';

export interface BakedDifference {
  /** `image`, `env FOO`, `memory`, … */
  what: string;
  was: string;
  now: string;
}

const NONE = 'not set';

function shown(v: string | number | undefined): string {
  if (v === undefined) return NONE;
  const s = typeof v === 'number' ? String(v) : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** `image` for a named image; for a built one the inputs' hash, which is what changed. */
function imageDifference(name: string, was: string, now: string): BakedDifference | undefined {
  if (was === now) return undefined;
  const prefix = builtImagePrefix(name);
  if (was.startsWith(prefix) && now.startsWith(prefix)) {
    return {
      what: 'build inputs (the Dockerfile or the files of its context)',
      was: was.slice(prefix.length),
      now: now.slice(prefix.length),
    };
  }
  return { what: 'image', was, now };
}

/** The provider's settings fixed when the workspace was made, beside its image, as labelled in messages. */
function bakedSettings(spec: WorkspaceSpec): Array<[string, string | number | undefined]> {
  switch (spec.provider) {
    case 'docker':
      return [
        ['cpus', spec.docker.cpus],
        ['memory (bytes)', spec.docker.memoryBytes],
        ['pids', spec.docker.pids],
        // Mounts, privileges, devices… as one setting: any change needs a new container.
        [
          'container options (mounts, runArgs, privileged, capAdd, securityOpt, init)',
          spec.docker.run ? JSON.stringify(spec.docker.run) : undefined,
        ],
      ];
    case 'qemu':
      return [
        ['cpus', spec.qemu.cpus],
        ['memory (bytes)', spec.qemu.memoryBytes],
        ['disk (bytes)', spec.qemu.diskBytes],
        ['accel', spec.qemu.accel],
        ['projectShare', spec.qemu.projectShare ?? 'auto'],
        ['kernel', spec.qemu.kernel],
        ['initrd', spec.qemu.initrd],
        ['append', spec.qemu.append],
      ];
    case 'lxc': {
      const config = spec.lxc.config ?? {};
      return [
        ['lxc.cpus', spec.lxc.cpus],
        ['lxc.memory (bytes)', spec.lxc.memoryBytes],
        ['lxc.profiles', spec.lxc.profiles?.join(',')],
        ['lxc.target', spec.lxc.target],
        ...Object.keys(config)
          .sort()
          .map((k): [string, string | undefined] => [`lxc.config ${k}`, config[k]]),
      ];
    }
  }
}

/**
 * Differences between what was baked into the workspace (`was`, with the node ports it
 * published) and what the config asks for now (`now`); empty when the container still fits.
 */
export function bakedDifferences(
  was: WorkspaceSpec,
  publishedPorts: Record<string, number> | undefined,
  now: WorkspaceSpec,
): BakedDifference[] {
  const out: BakedDifference[] = [];
  const add = (what: string, a: string | number | undefined, b: string | number | undefined): void => {
    if (a !== b) out.push({ what, was: shown(a), now: shown(b) });
  };
  add('provider', was.provider, now.provider);
  const image = imageDifference(now.name, specImage(was), specImage(now));
  if (image) out.push(image);
  if (was.provider === now.provider) {
    const before = new Map(bakedSettings(was));
    for (const [what, value] of bakedSettings(now)) add(what, before.get(what), value);
  }
  add('user', was.user, now.user);
  add('workspaceFolder', was.workspaceFolder, now.workspaceFolder);
  for (const k of [...new Set([...Object.keys(was.env), ...Object.keys(now.env)])].sort())
    add(`env ${k}`, was.env[k], now.env[k]);
  const published = new Set(Object.keys(publishedPorts ?? {}));
  for (const s of now.services ?? []) {
    if (s.port !== undefined && !published.has(String(s.port)))
      out.push({ what: `port ${s.port} (service ${s.name})`, was: 'not published on the node', now: 'published' });
  }
  return out;
}

/** `image "a" → "b"; env FOO not set → "1"` for a one-line message. */
export function describeDifferences(diffs: readonly BakedDifference[]): string {
  return diffs.map((d) => `${d.what} ${d.was} → ${d.now}`).join('; ');
}
