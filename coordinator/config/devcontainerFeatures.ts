/**
 * devcontainer.json's `features` and `overrideFeatureInstallOrder`, turned into the workspace
 * config's `docker.features` and `docker.featureInstallOrder`. A local feature (`./x`) is relative
 * to devcontainer.json's folder; the workspace config's is relative to the project folder, where
 * the agent finds it once the project is synced.
 */
import { posix } from 'node:path';
import type { Node as JsonNode } from 'jsonc-parser';
import { configDirOf } from './devcontainerBuild';
import type { DevcontainerContext } from './devcontainerContext';
import type { FeaturesConfig } from './types';

/** A feature reference as the workspace config holds it, or a reason it cannot be one. */
export function featureReference(ref: string, configDir: string): { ref: string } | { error: string; hint: string } {
  if (ref.startsWith('./') || ref.startsWith('../')) {
    const path = posix.normalize(posix.join(configDir, ref)).replace(/\/+$/, '');
    if (path === '..' || path.startsWith('../') || posix.isAbsolute(path) || path === '.')
      return {
        error: `the local feature ${JSON.stringify(ref)} is not a folder inside the project`,
        hint: 'keep local features in a folder beside devcontainer.json, e.g. "./features/my-feature"',
      };
    return { ref: `./${path}` };
  }
  if (/^https?:\/\//i.test(ref))
    return {
      error: `the feature ${JSON.stringify(ref)} is a tarball URL, which Vendetta does not fetch`,
      hint: 'publish it to an OCI registry (`devcontainer features publish`) or copy its folder beside devcontainer.json',
    };
  if (!ref.includes('/') || !/^[A-Za-z0-9][A-Za-z0-9._\-/:@]*$/.test(ref))
    return {
      error: `${JSON.stringify(ref)} is not an OCI feature reference`,
      hint: 'name features as registry/path/name:version, e.g. "ghcr.io/devcontainers/features/node:1"',
    };
  return { ref };
}

export function convertFeatures(c: DevcontainerContext): void {
  const p = c.props.get('features');
  const dir = configDirOf(c.file);
  const refs = new Map<string, string>();
  if (p) {
    if (p.value.type !== 'object') {
      c.report(p.value, { code: 'schema', message: '`features` must be an object of feature references to options' });
      return;
    }
    const out: FeaturesConfig = {};
    for (const [name, f] of c.objectProps(p.value)) {
      const r = featureReference(name, dir);
      if ('error' in r) {
        c.report(f.key, { code: 'unsupported', message: r.error, hint: r.hint });
        continue;
      }
      const options = featureOptions(c, f.value, name);
      if (!options) continue;
      out[r.ref] = options;
      refs.set(name, r.ref);
      c.sources.set(`docker/features/${r.ref}`, f.value);
    }
    if (Object.keys(out).length) {
      c.config.docker = { ...c.config.docker, features: out };
      c.sources.set('docker/features', p.value);
    }
  }
  const order = c.props.get('overrideFeatureInstallOrder');
  if (!order) return;
  if (order.value.type !== 'array' || !(order.value.children ?? []).every((n) => n.type === 'string')) {
    c.report(order.value, {
      code: 'schema',
      message: '`overrideFeatureInstallOrder` must be a list of feature references',
    });
    return;
  }
  const list = (order.value.children ?? []).map((n) => {
    const ref = n.value as string;
    const local = featureReference(ref, dir);
    return refs.get(ref) ?? ('ref' in local ? local.ref : ref);
  });
  c.config.docker = { ...c.config.docker, featureInstallOrder: list };
  c.sources.set('docker/featureInstallOrder', order.value);
}

/** `{ "opt": "v", "flag": true }`; a string alone is the legacy `{ "version": … }`; `true` none. */
function featureOptions(
  c: DevcontainerContext,
  n: JsonNode,
  name: string,
): Record<string, string | boolean> | undefined {
  if (n.type === 'string') return { version: n.value as string };
  if (n.type === 'boolean' && n.value === true) return {};
  if (n.type !== 'object') {
    c.report(n, { code: 'schema', message: `the options of the feature ${JSON.stringify(name)} must be an object` });
    return undefined;
  }
  const out: Record<string, string | boolean> = {};
  for (const [k, v] of c.objectProps(n)) {
    if (v.value.type === 'string' || v.value.type === 'boolean') out[k] = v.value.value as string | boolean;
    else if (v.value.type === 'number') out[k] = String(v.value.value);
    else
      c.report(v.value, { code: 'schema', message: `the feature option \`${k}\` must be a string, number or boolean` });
  }
  return out;
}
