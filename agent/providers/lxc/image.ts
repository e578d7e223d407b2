/**
 * The image a workspace config names: an alias, else a fingerprint (or a unique prefix of one) in
 * the node's LXD image store; or `remote:alias`, which LXD itself fetches from a remote the node
 * has configured for its `lxc` client (config.yml and the remote's certificate in servercerts/).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { AgentError } from '../../errors';
import { lxdCalls } from './api';
import type { LxdClient } from './client';
import { parseAliasTarget } from './parse';

export interface LxcRemote {
  name: string;
  addr: string;
  protocol: 'lxd' | 'simplestreams';
  public: boolean;
  /** The remote's own certificate (PEM), pinned by `lxc remote add`. */
  certificate?: string;
}

/** The lxc client's built-in remotes (present even when config.yml does not list them). */
const BUILT_IN: LxcRemote[] = [
  { name: 'images', addr: 'https://images.linuxcontainers.org', protocol: 'simplestreams', public: true },
  { name: 'ubuntu', addr: 'https://cloud-images.ubuntu.com/releases', protocol: 'simplestreams', public: true },
];

/** Where the node's lxc client keeps its config: `$LXD_CONF`, the snap's, the package's. */
export function lxcConfigDirs(env: NodeJS.ProcessEnv, home = homedir()): string[] {
  return [
    ...(env.LXD_CONF ? [env.LXD_CONF] : []),
    join(home, 'snap', 'lxd', 'common', 'config'),
    join(home, '.config', 'lxc'),
  ];
}

/** One remote as config.yml names it; its certificate from servercerts/<name>.crt. */
export function remoteFrom(
  configText: string,
  name: string,
  readCert: (n: string) => string | undefined,
): LxcRemote | undefined {
  const doc = parseYaml(configText) as { remotes?: Record<string, Record<string, unknown>> } | null;
  const r = doc?.remotes?.[name];
  if (!r || typeof r.addr !== 'string') return undefined;
  const protocol = r.protocol === 'simplestreams' ? 'simplestreams' : 'lxd';
  const cert = readCert(name);
  return { name, addr: r.addr, protocol, public: r.public === true, ...(cert ? { certificate: cert } : {}) };
}

export function findRemote(name: string, env: NodeJS.ProcessEnv = process.env): LxcRemote | undefined {
  for (const dir of lxcConfigDirs(env)) {
    const file = join(dir, 'config.yml');
    if (!existsSync(file)) continue;
    const cert = (n: string) => {
      const f = join(dir, 'servercerts', `${n}.crt`);
      return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
    };
    const found = remoteFrom(readFileSync(file, 'utf8'), name, cert);
    if (found) return found;
  }
  return BUILT_IN.find((r) => r.name === name);
}

/** LXD's `source` for an image it pulls from a remote itself. */
export function pullSource(remote: LxcRemote, alias: string): Record<string, unknown> {
  return {
    type: 'image',
    mode: 'pull',
    server: remote.addr,
    protocol: remote.protocol,
    alias,
    ...(remote.certificate ? { certificate: remote.certificate } : {}),
  };
}

export async function resolveImage(
  client: LxdClient,
  image: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, unknown>> {
  const colon = image.indexOf(':');
  if (colon > 0) {
    const [name, alias] = [image.slice(0, colon), image.slice(colon + 1)];
    const remote = findRemote(name, env);
    if (!remote)
      throw new AgentError('IMAGE_NOT_FOUND', `The node has no LXD remote named ${name} (for the image ${image})`, {
        provider: 'lxc',
        hint: `Add it on the node for the agent's user (\`lxc remote add ${name} <url> --public\`), or use an image in the node's store.`,
      });
    if (remote.protocol === 'lxd' && !remote.public)
      throw new AgentError(
        'IMAGE_NOT_FOUND',
        `The LXD remote ${name} is not public, so the node's LXD cannot pull ${image} from it`,
        {
          provider: 'lxc',
          hint: `Copy it into the node's store first (\`lxc image copy ${image} local: --alias ${alias}\`), then name the alias.`,
        },
      );
    return pullSource(remote, alias);
  }
  const found = await client.json(lxdCalls.alias(image), { timeoutMs: 15_000 });
  if (found.status === 200) return { type: 'image', fingerprint: parseAliasTarget(found.value) };
  if (
    /^[0-9a-f]{6,64}$/.test(image) &&
    (await client.send(lxdCalls.image(image), { timeoutMs: 15_000 })).status === 200
  )
    return { type: 'image', fingerprint: image };
  throw new AgentError('IMAGE_NOT_FOUND', `The node's LXD has no image ${image} (neither an alias nor a fingerprint)`, {
    provider: 'lxc',
    hint: `See \`lxc image list\` on the node; import one with \`lxc image import … --alias ${image}\`, or name an existing alias in lxc.image.`,
  });
}

/** A create operation's progress as LXD reports it (`download_progress`, `…_unpack_progress`), as one line. */
export function progressText(metadata: Record<string, unknown>): string | undefined {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(metadata))
    if (k.endsWith('_progress') && typeof v === 'string' && v) parts.push(v);
  return parts.length ? parts.join(', ') : undefined;
}
