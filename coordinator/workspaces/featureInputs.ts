/**
 * The hash of what a features image is made from, which names it
 * (`vendetta-ws/<workspace>:<hash>`): the base image (or the hash of the `docker.build` inputs), the
 * features with their options, the install order override, the login user (install.sh sees it as
 * `_REMOTE_USER`) and every file of the local feature folders. A change to any of them gives a new
 * name, so `up` says the workspace is outdated; an OCI feature is named by its reference (a tag
 * moved in the registry is not noticed until one of these changes, as with a base image's tag).
 */
import { createHash } from 'node:crypto';
import type { FeaturesConfig } from '../config/types';
import { hashProjectFiles } from './buildInputs';

export interface FeatureInputs {
  /** The base image reference, or `build:<hash of the build inputs>`. */
  base: string;
  features: FeaturesConfig;
  installOrder?: string[];
  user: string;
}

/** 16 hex digits of a SHA-256: a tag, not a security boundary. */
export async function featureInputsHash(root: string, inputs: FeatureInputs): Promise<string> {
  const h = createHash('sha256');
  const refs = Object.keys(inputs.features).sort();
  h.update(
    JSON.stringify({
      features: refs.map((r) => [r, Object.entries(inputs.features[r]!).sort(([a], [b]) => (a < b ? -1 : 1))]),
      base: inputs.base,
      installOrder: inputs.installOrder ?? [],
      user: inputs.user,
    }),
  );
  const local = refs.filter((r) => r.startsWith('./')).map((r) => `${r.slice(2).replace(/\/+$/, '')}/`);
  if (local.length) await hashProjectFiles(h, root, local);
  return h.digest('hex').slice(0, 16);
}
