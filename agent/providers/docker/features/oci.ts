/**
 * A feature published to an OCI registry (containers.dev/implementors/features-distribution): its
 * manifest names one layer of media type `application/vnd.devcontainers.layer.v1+tar`, the tar of
 * the feature's folder. Fetched by the agent over the registry's HTTP API with the node's
 * credentials (registryAuth.ts: the same the engine's pulls use), answering a `Basic` or a
 * `Bearer` (token server) challenge. Plain HTTP only for loopback registries, as the engine does.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { AgentError } from '../../../errors';
import { credentialFor, nodeAuthDeps, parseImageRef, type AuthDeps, type Credential } from '../registryAuth';

export const FEATURE_LAYER_TYPE = 'application/vnd.devcontainers.layer.v1+tar';
const MANIFEST_TYPES =
  'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';
const MAX_LAYER_BYTES = 64 * 1024 * 1024;
const TIMEOUT_MS = 60_000;

export interface FetchedFeature {
  /** The layer's digest: what the feature's files are, whatever the tag says. */
  digest: string;
  /** The layer as a tar (ungzipped if it was gzipped). */
  tar: Buffer;
}

export interface OciDeps {
  fetch: typeof fetch;
  auth: AuthDeps;
}

const nodeDeps: OciDeps = { fetch: (...a) => fetch(...a), auth: nodeAuthDeps };

/** `https://`, or `http://` for a registry on loopback (127.0.0.0/8, localhost, [::1]). */
export function registryBase(registry: string): string {
  const host = registry.replace(/:\d+$/, '');
  const loopback = /^127\./.test(host) || host === 'localhost' || host === '[::1]';
  return `${loopback ? 'http' : 'https'}://${registry === 'docker.io' ? 'registry-1.docker.io' : registry}`;
}

/** `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export function parseChallenge(header: string | null): { scheme: string; params: Record<string, string> } | undefined {
  if (!header) return undefined;
  const m = /^(\w+)\s*(.*)$/.exec(header.trim());
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme: m[1]!.toLowerCase(), params };
}

/** The feature layer's digest from a manifest; undefined when it has none. */
export function featureLayer(manifest: unknown): { digest: string; size: number } | undefined {
  const layers = (manifest as { layers?: unknown } | null)?.layers;
  if (!Array.isArray(layers)) return undefined;
  const l = layers.find((x: unknown) => (x as { mediaType?: unknown })?.mediaType === FEATURE_LAYER_TYPE) as
    | { digest?: unknown; size?: unknown }
    | undefined;
  if (!l || typeof l.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(l.digest)) return undefined;
  return { digest: l.digest, size: typeof l.size === 'number' ? l.size : 0 };
}

function basic(c: Credential): string | undefined {
  return 'username' in c ? `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` : undefined;
}

export async function fetchOciFeature(
  ref: string,
  signal?: AbortSignal,
  deps: OciDeps = nodeDeps,
): Promise<FetchedFeature> {
  const { registry, name, tag } = parseImageRef(ref);
  const repo = name.startsWith(`${registry}/`) ? name.slice(registry.length + 1) : name;
  const base = registryBase(registry);
  const fail = (
    code: 'FEATURE_NOT_FOUND' | 'IMAGE_PULL_DENIED' | 'IMAGE_PULL_FAILED',
    what: string,
    hint: string,
    cause?: unknown,
  ) =>
    new AgentError(code, `The feature ${ref} could not be fetched from ${registry}: ${what}`, {
      provider: 'docker',
      hint,
      ...(cause !== undefined ? { cause } : {}),
    });
  let cred: Awaited<ReturnType<typeof credentialFor>>;
  try {
    cred = await credentialFor(registry, deps.auth);
  } catch (err) {
    throw fail(
      'IMAGE_PULL_DENIED',
      "the node's registry credentials could not be read",
      "Fix the agent user's ~/.docker/config.json on the node.",
      err,
    );
  }
  let authorization: string | undefined;
  const get = async (path: string, accept?: string): Promise<Response> => {
    const call = () =>
      deps.fetch(`${base}/v2/${repo}/${path}`, {
        headers: { ...(accept ? { accept } : {}), ...(authorization ? { authorization } : {}) },
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]) : AbortSignal.timeout(TIMEOUT_MS),
      });
    let r = await call();
    if (r.status !== 401 || authorization !== undefined) return r;
    authorization = await answer(
      parseChallenge(r.headers.get('www-authenticate')),
      cred?.credential,
      repo,
      deps,
      signal,
    );
    if (authorization === undefined) return r;
    r = await call();
    return r;
  };
  let manifestReply: Response;
  try {
    manifestReply = await get(`manifests/${tag}`, MANIFEST_TYPES);
  } catch (err) {
    throw fail(
      'IMAGE_PULL_FAILED',
      err instanceof Error ? err.message : String(err),
      `Check that the node reaches ${registry}.`,
      err,
    );
  }
  const login = `On the node, as the agent's user, \`docker login ${registry}\` writes ~/.docker/config.json, which the agent uses for features as for images.`;
  if (manifestReply.status === 401 || manifestReply.status === 403)
    throw fail(
      'IMAGE_PULL_DENIED',
      `the registry refused (${manifestReply.status}, ${cred ? `credentials from ${cred.source}` : 'no credentials'})`,
      login,
    );
  if (manifestReply.status === 404)
    throw fail(
      'FEATURE_NOT_FOUND',
      `there is no ${repo}:${tag} there`,
      'Check the feature reference (registry/path/name:version) in devcontainer.json.',
    );
  if (manifestReply.status !== 200)
    throw fail(
      'IMAGE_PULL_FAILED',
      `the registry answered ${manifestReply.status} for its manifest`,
      `Check that ${registry} serves OCI artifacts.`,
    );
  const layer = featureLayer(await manifestReply.json().catch(() => undefined));
  if (!layer)
    throw fail(
      'FEATURE_NOT_FOUND',
      `${repo}:${tag} is not a Dev Container Feature (no ${FEATURE_LAYER_TYPE} layer)`,
      'Check that the reference names a feature, not an image.',
    );
  if (layer.size > MAX_LAYER_BYTES)
    throw fail(
      'IMAGE_PULL_FAILED',
      `its layer is ${layer.size} bytes, more than the ${MAX_LAYER_BYTES} a feature may have`,
      'A feature is a folder of scripts; check the reference.',
    );
  const blob = await get(`blobs/${layer.digest}`);
  if (blob.status !== 200)
    throw fail(
      'IMAGE_PULL_FAILED',
      `the registry answered ${blob.status} for its layer ${layer.digest}`,
      `Check the registry ${registry}.`,
    );
  const bytes = Buffer.from(await blob.arrayBuffer());
  const got = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (got !== layer.digest)
    throw fail(
      'IMAGE_PULL_FAILED',
      `its layer's content is ${got}, not the ${layer.digest} its manifest names`,
      'The registry served a damaged layer; try again.',
    );
  // Published features are plain tars; some tools gzip them (the file is named .tgz either way).
  const tar = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes, { maxOutputLength: MAX_LAYER_BYTES }) : bytes;
  return { digest: layer.digest, tar };
}

/** The Authorization header that answers a 401's challenge, or undefined when nothing can. */
async function answer(
  challenge: ReturnType<typeof parseChallenge>,
  cred: Credential | undefined,
  repo: string,
  deps: OciDeps,
  signal?: AbortSignal,
): Promise<string | undefined> {
  if (!challenge) return undefined;
  if (challenge.scheme === 'basic') return cred ? basic(cred) : undefined;
  if (challenge.scheme !== 'bearer' || !challenge.params.realm) return undefined;
  const url = new URL(challenge.params.realm);
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
  url.searchParams.set('scope', challenge.params.scope ?? `repository:${repo}:pull`);
  const auth = cred ? basic(cred) : undefined;
  const r = await deps.fetch(url, { headers: auth ? { authorization: auth } : {}, ...(signal ? { signal } : {}) });
  if (r.status !== 200) return undefined;
  const body = (await r.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
  const token =
    typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined;
  return token ? `Bearer ${token}` : undefined;
}
