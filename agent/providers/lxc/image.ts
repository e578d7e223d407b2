/**
 * The image a workspace config names, found in the node's LXD image store: an alias, else a
 * fingerprint (or a unique prefix of one). `remote:alias` (an image LXD fetches from a remote)
 * is refused with a clear error: the agent does not read the lxc client's remotes yet.
 */
import { AgentError } from '../../errors';
import { lxdCalls } from './api';
import type { LxdClient } from './client';
import { parseAliasTarget } from './parse';

export async function resolveImage(client: LxdClient, image: string): Promise<Record<string, unknown>> {
  if (image.includes(':')) {
    throw new AgentError(
      'IMAGE_NOT_FOUND',
      `The image ${image} names a remote; this version of vendetta uses images already in the node's LXD image store`,
      {
        provider: 'lxc',
        hint: `Copy it into the node's store first (\`lxc image copy ${image} local: --alias ${image.slice(image.indexOf(':') + 1)}\`), then name the alias.`,
      },
    );
  }
  const alias = await client.json(lxdCalls.alias(image), { timeoutMs: 15_000 });
  if (alias.status === 200) return { type: 'image', fingerprint: parseAliasTarget(alias.value) };
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
