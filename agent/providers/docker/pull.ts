/**
 * Pulling a workspace image through the engine (`POST /images/create?fromImage=…`), with the
 * node's own registry credentials (registryAuth.ts) and the layers' progress as `up` progress
 * lines. Failures become errors that say which of the usual causes it is: the image or tag is not
 * in the registry, the registry refused the credentials (or wanted some), the image is built for
 * another platform, or the registry could not be reached.
 */
import { AgentError } from '../../errors';
import type { EngineCall, EngineClient } from './engine';
import { EngineHttpError } from './engine';
import { parseBuildLine } from './parse';
import { credentialFor, nodeAuthDeps, parseImageRef, registryAuthHeader, type AuthDeps } from './registryAuth';

/** A pull stalls when nothing arrives for this long (the engine sends progress while it works). */
const PULL_IDLE_MS = 5 * 60_000;
/** At most one progress line per layer change or this often. */
const PROGRESS_EVERY_MS = 1_000;

/** The node's platform as the engine names it. */
export function nodePlatform(arch: string = process.arch): { os: string; architecture: string } {
  const goArch: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ia32: '386',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
  };
  return { os: 'linux', architecture: goArch[arch] ?? arch };
}

export function pullCall(name: string, tag: string, platform: string, auth: string | undefined): EngineCall {
  return {
    method: 'POST',
    path: '/images/create',
    query: { fromImage: name, tag, platform },
    ...(auth ? { headers: { 'X-Registry-Auth': auth } } : {}),
    accept: [200],
    what: `pull the image ${name}:${tag}`,
  };
}

/** One line of the pull stream: a layer's state and bytes, or an error. */
export type PullEvent =
  | { kind: 'layer'; id: string; status: string; current?: number; total?: number }
  | { kind: 'error'; message: string }
  | { kind: 'other' };

export function parsePullLine(line: string): PullEvent | undefined {
  const m = parseBuildLine(line);
  if (!m) return undefined;
  if (m.kind === 'error') return { kind: 'error', message: m.message };
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { kind: 'other' };
  }
  const o = v as { status?: unknown; id?: unknown; progressDetail?: { current?: unknown; total?: unknown } };
  if (typeof o.status !== 'string' || typeof o.id !== 'string' || !/^[0-9a-f]{12,64}$/.test(o.id))
    return { kind: 'other' };
  const num = (x: unknown): number | undefined =>
    typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : undefined;
  const current = num(o.progressDetail?.current);
  const total = num(o.progressDetail?.total);
  return {
    kind: 'layer',
    id: o.id,
    status: o.status,
    ...(current !== undefined ? { current } : {}),
    ...(total !== undefined ? { total } : {}),
  };
}

const DONE = new Set(['Pull complete', 'Already exists']);
const mb = (n: number): string => (n / 1e6).toFixed(1);

/** The layers seen so far, summed into one line: "3/5 layers, 12.0 of 80.5 MB". */
export class PullProgress {
  private readonly layers = new Map<string, { status: string; current: number; total: number }>();

  /** True when a layer started, finished or changed phase (worth a line at once). */
  add(e: Extract<PullEvent, { kind: 'layer' }>): boolean {
    const old = this.layers.get(e.id);
    const downloading = e.status === 'Downloading';
    const next = {
      status: e.status,
      current: downloading
        ? (e.current ?? old?.current ?? 0)
        : DONE.has(e.status) || e.status === 'Download complete' || e.status === 'Extracting'
          ? (old?.total ?? 0)
          : (old?.current ?? 0),
      total: downloading && e.total !== undefined ? e.total : (old?.total ?? 0),
    };
    this.layers.set(e.id, next);
    return !old || (old.status !== e.status && !(old.status === 'Downloading' && downloading));
  }

  summary(): string {
    const all = [...this.layers.values()];
    const done = all.filter((l) => DONE.has(l.status)).length;
    const total = all.reduce((s, l) => s + l.total, 0);
    const current = all.reduce((s, l) => s + Math.min(l.current, l.total || l.current), 0);
    const extracting = all.some((l) => l.status === 'Extracting') ? ', extracting' : '';
    return `${done}/${all.length} layers${total > 0 ? `, ${mb(current)} of ${mb(total)} MB` : ''}${extracting}`;
  }
}

/** The engine's words for a failed pull → which failure it is, with what to do. */
export function pullError(image: string, registry: string, message: string, cause?: unknown): AgentError {
  const opts = (hint: string) => ({ provider: 'docker' as const, hint, ...(cause !== undefined ? { cause } : {}) });
  const login = registry === 'docker.io' ? '`docker login`' : `\`docker login ${registry}\``;
  if (/no matching manifest|does not match the specified platform|image's platform/i.test(message)) {
    return new AgentError(
      'IMAGE_PLATFORM_MISMATCH',
      `The image ${image} is not built for this node's platform (${nodePlatform().os}/${nodePlatform().architecture}): ${message}`,
      opts("Use a tag built for the node's platform, or a multi-platform image that includes it."),
    );
  }
  if (
    /unauthorized|authentication required|no basic auth credentials|denied|forbidden|\b40[13]\b/i.test(message) &&
    !/repository does not exist/i.test(message)
  ) {
    return new AgentError(
      'IMAGE_PULL_DENIED',
      `The registry ${registry} refused to let this node pull ${image}: ${message}`,
      opts(
        `On the node, as the agent's user, ${login} writes ~/.docker/config.json (or $DOCKER_CONFIG/config.json), which the agent reads, credential helpers included; nothing is sent from the laptop.`,
      ),
    );
  }
  if (/manifest unknown|not found|repository does not exist|name unknown/i.test(message)) {
    return new AgentError(
      'IMAGE_NOT_FOUND',
      `The image ${image} is not in the registry ${registry}: ${message}`,
      opts(
        `Check the name and tag in the workspace config; if the repository is private, log in on the node: \`docker login ${registry}\`.`,
      ),
    );
  }
  return new AgentError(
    'IMAGE_PULL_FAILED',
    `Could not pull ${image} from ${registry}: ${message}`,
    opts(`Check that the node reaches ${registry} (DNS, proxy, firewall); the engine said what it saw.`),
  );
}

export interface PullOptions {
  progress(message: string): void;
  signal?: AbortSignal;
  auth?: AuthDeps;
}

/** Pulls `image` for the node's platform; resolves once the engine has it. */
export async function pullImage(engine: EngineClient, image: string, opts: PullOptions): Promise<void> {
  const ref = parseImageRef(image);
  let auth: string | undefined;
  let source = 'no credentials';
  try {
    const found = await credentialFor(ref.registry, opts.auth ?? nodeAuthDeps);
    if (found)
      [auth, source] = [registryAuthHeader(ref.registry, found.credential), `credentials from ${found.source}`];
  } catch (err) {
    throw new AgentError(
      'IMAGE_PULL_DENIED',
      `Could not read the node's credentials for ${ref.registry}: ${err instanceof Error ? err.message : String(err)}`,
      {
        provider: 'docker',
        hint: "Fix ~/.docker/config.json of the agent's user on the node (or $DOCKER_CONFIG), or its credential helper.",
        cause: err,
      },
    );
  }
  const platform = nodePlatform();
  opts.progress(`Pulling the image ${image} (${source})`);
  const layers = new PullProgress();
  let failure: string | undefined;
  let pending = '';
  let last = 0;
  const onLine = (line: string): void => {
    const e = parsePullLine(line);
    if (e?.kind === 'error') failure = e.message;
    if (e?.kind !== 'layer') return;
    const changed = layers.add(e);
    if (changed || Date.now() - last >= PROGRESS_EVERY_MS) {
      last = Date.now();
      opts.progress(`Pulling the image ${image}: ${layers.summary()}`);
    }
  };
  try {
    await engine.send(pullCall(ref.name, ref.tag, `${platform.os}/${platform.architecture}`, auth), {
      timeoutMs: PULL_IDLE_MS,
      ...(opts.signal ? { signal: opts.signal } : {}),
      onChunk: (chunk) => {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        lines.forEach(onLine);
      },
    });
  } catch (err) {
    if (err instanceof EngineHttpError) throw pullError(image, ref.registry, err.daemonMessage || err.message, err);
    throw err;
  }
  if (pending) onLine(pending);
  if (failure !== undefined) throw pullError(image, ref.registry, failure);
}

/** After a pull: an image for another platform is refused here, before a container fails with "exec format error". */
export function platformMismatch(
  image: string,
  os: string | undefined,
  architecture: string | undefined,
): AgentError | undefined {
  const want = nodePlatform();
  if ((os === undefined || os === want.os) && (architecture === undefined || architecture === want.architecture))
    return undefined;
  return pullError(
    image,
    parseImageRef(image).registry,
    `image's platform ${os ?? '?'}/${architecture ?? '?'} does not match the node's ${want.os}/${want.architecture}`,
  );
}
