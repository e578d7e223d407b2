/**
 * Registry credentials for a pull, read on the node as the Docker CLI reads them: the agent
 * user's `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`) — `credHelpers` for the
 * registry, else `credsStore`, through `docker-credential-<name> get`; else `auths` (base64
 * `user:password`, or an identity token). Nothing comes from the laptop. The result is the
 * engine's `X-Registry-Auth` header (base64url JSON); none at all means an anonymous pull.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const DOCKER_HUB = 'docker.io';
/** The key the Docker CLI files Docker Hub's credentials under. */
const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** An image reference split as the engine's pull wants it; `registry` is `docker.io` for Docker Hub. */
export interface ImageRef {
  registry: string;
  /** Everything before the tag or digest (`127.0.0.1:5000/team/app`). */
  name: string;
  /** The tag, or the digest (`sha256:…`); `latest` when the reference has neither. */
  tag: string;
}

export function parseImageRef(ref: string): ImageRef {
  const at = ref.indexOf('@');
  let name = at >= 0 ? ref.slice(0, at) : ref;
  let tag = at >= 0 ? ref.slice(at + 1) : '';
  if (!tag) {
    const colon = name.lastIndexOf(':');
    if (colon > name.lastIndexOf('/')) [name, tag] = [name.slice(0, colon), name.slice(colon + 1)];
  } else {
    // name:tag@digest: the digest decides.
    const colon = name.lastIndexOf(':');
    if (colon > name.lastIndexOf('/')) name = name.slice(0, colon);
  }
  const first = name.split('/')[0]!;
  const registry =
    name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : DOCKER_HUB;
  return { registry, name, tag: tag || 'latest' };
}

/** A config key (`https://host/v1/`, `host`) → the host it is for. */
function hostOfKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').split('/')[0]!;
  return ['index.docker.io', 'registry-1.docker.io', 'docker.io'].includes(host) ? DOCKER_HUB : host;
}

export interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export type Credential = { username: string; password: string } | { identitytoken: string };

export interface AuthDeps {
  /** The parsed config file, or undefined when there is none. */
  config(): DockerConfig | undefined;
  /** Runs `docker-credential-<helper> get` with `server` on stdin; its stdout, or throws. */
  helper(helper: string, server: string): Promise<string>;
}

/** Where the credential for `registry` comes from, and the credential; undefined: pull anonymously. */
export async function credentialFor(
  registry: string,
  deps: AuthDeps,
): Promise<{ source: string; credential: Credential } | undefined> {
  const config = deps.config();
  if (!config) return undefined;
  const server = registry === DOCKER_HUB ? DOCKER_HUB_KEY : registry;
  const helper =
    Object.entries(config.credHelpers ?? {}).find(([k]) => hostOfKey(k) === registry)?.[1] ?? config.credsStore;
  if (helper) {
    let out: string;
    try {
      out = await deps.helper(helper, server);
    } catch (err) {
      // The helper has nothing for this registry: an anonymous pull, as the Docker CLI does.
      if (/credentials not found/i.test(err instanceof Error ? err.message : String(err))) return undefined;
      throw new Error(
        `the credential helper docker-credential-${helper} failed for ${registry}: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err },
      );
    }
    const got = JSON.parse(out) as { Username?: unknown; Secret?: unknown };
    if (typeof got.Secret !== 'string')
      throw new Error(`the credential helper docker-credential-${helper} gave no Secret for ${registry}`);
    const credential: Credential =
      got.Username === '<token>'
        ? { identitytoken: got.Secret }
        : { username: String(got.Username ?? ''), password: got.Secret };
    return { source: `docker-credential-${helper}`, credential };
  }
  const entry = Object.entries(config.auths ?? {}).find(([k]) => hostOfKey(k) === registry)?.[1];
  if (!entry) return undefined;
  if (entry.identitytoken) return { source: 'auths', credential: { identitytoken: entry.identitytoken } };
  if (entry.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon < 0) throw new Error(`the auths entry for ${registry} is not base64 of user:password`);
    return { source: 'auths', credential: { username: plain.slice(0, colon), password: plain.slice(colon + 1) } };
  }
  if (entry.username !== undefined && entry.password !== undefined)
    return { source: 'auths', credential: { username: entry.username, password: entry.password } };
  return undefined;
}

/**
 * The engine's X-Registry-Auth header value: base64 with the URL alphabet and its padding (Go's
 * base64.URLEncoding; Docker 20.10 ignores an unpadded value and pulls without credentials).
 */
export function registryAuthHeader(registry: string, credential: Credential): string {
  const serveraddress = registry === DOCKER_HUB ? DOCKER_HUB_KEY : registry;
  return Buffer.from(JSON.stringify({ ...credential, serveraddress }))
    .toString('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
}

/** The real file and helpers of the agent's user on the node. */
export const nodeAuthDeps: AuthDeps = {
  config() {
    let text: string;
    try {
      text = readFileSync(dockerConfigPath(), 'utf8');
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as DockerConfig;
    } catch (err) {
      throw new Error(`${dockerConfigPath()} is not JSON`, { cause: err });
    }
  },
  helper(helper, server) {
    if (!/^[A-Za-z0-9_.-]+$/.test(helper))
      return Promise.reject(new Error(`${JSON.stringify(helper)} is not a credential helper name`));
    return new Promise((resolve, reject) => {
      const child = execFile(
        `docker-credential-${helper}`,
        ['get'],
        { timeout: 30_000, maxBuffer: 1024 * 1024 },
        (err, stdout, stderr) => {
          if (err) reject(new Error((stdout.trim() || stderr.trim() || err.message).slice(0, 300)));
          else resolve(stdout);
        },
      );
      child.stdin?.end(server);
    });
  },
};
