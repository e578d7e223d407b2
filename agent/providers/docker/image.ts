/**
 * The workspace image: there already (loaded, pulled or built by someone), pulled from its
 * registry (pull.ts), or built here from a `docker.build` context in the project.
 */
import type { DockerSettings, DockerWorkspaceSpec } from '../../protocol';
import { AgentError } from '../../errors';
import { Dir } from '../../fs/beneath';
import { BeneathError } from '../../fs/beneathError';
import { openBeneath } from '../../fs/beneathPaths';
import { tarDirectory } from '../../tar/directory';
import { dockerCalls } from './api';
import type { EngineClient } from './engine';
import { parseBuildLine, parseImageInspect } from './parse';
import { platformMismatch, pullError, pullImage } from './pull';
import { parseImageRef } from './registryAuth';
import { TailBuffer } from './stream';

const BUILD_TIMEOUT_MS = 30 * 60_000;

export async function imageExists(engine: EngineClient, image: string, signal?: AbortSignal): Promise<boolean> {
  const r = await engine.send(dockerCalls.imageInspect(image), { timeoutMs: 15_000, signal });
  return r.status === 200;
}

/** Pulls the image unless the engine has it; a pulled image for another platform is refused. */
export async function ensureImage(
  engine: EngineClient,
  image: string,
  progress: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  if (await imageExists(engine, image, signal)) return;
  await pullImage(engine, image, { progress, ...(signal ? { signal } : {}) });
  const r = await engine.json(dockerCalls.imageInspect(image), { timeoutMs: 15_000, signal });
  const pulled = r.status === 200 ? parseImageInspect(r.value) : undefined;
  if (!pulled)
    throw pullError(image, parseImageRef(image).registry, 'the engine does not have the image after the pull');
  const wrong = platformMismatch(image, pulled.os, pulled.architecture);
  if (wrong) throw wrong;
}

/**
 * The build context folder inside the node folder, held open: reached one folder at a time below
 * the project folder, never through a link (the running workspace can change the project).
 */
export function openBuildContext(nodeFolder: string, context: string): Dir {
  const missing = (cause?: unknown) =>
    new AgentError('BUILD_CONTEXT_MISSING', `The build context ${context} is not in the project folder on the node`, {
      provider: 'docker',
      hint: 'Sync the project to the node first (`vendetta workspace up` does), then create the workspace again.',
      cause,
    });
  const notInside = (cause?: unknown) =>
    new AgentError('BUILD_FAILED', `The build context ${context} is not a folder inside the project`, {
      provider: 'docker',
      hint: 'docker.build.context must name a folder inside the project (not a symlink to one).',
      cause,
    });
  const segs = context.split('/').filter((s) => s !== '' && s !== '.');
  if (segs.includes('..')) throw notInside();
  let root: Dir;
  try {
    root = Dir.openRoot(nodeFolder);
  } catch (err) {
    throw missing(err);
  }
  try {
    const dir = openBeneath(root, segs);
    if (!dir) throw missing();
    return dir;
  } catch (err) {
    throw err instanceof BeneathError ? notInside(err) : err;
  } finally {
    if (segs.length > 0) root.close();
  }
}

/** Whether `path` (relative to the held folder) names a regular file there, reached without links. */
function hasFile(dir: Dir, path: string): boolean {
  const segs = path.split('/').filter((s) => s !== '' && s !== '.');
  if (segs.length === 0 || segs.includes('..')) return false;
  let parent: Dir | undefined;
  try {
    parent = openBeneath(dir, segs.slice(0, -1));
    return parent?.lstat(segs[segs.length - 1]!)?.isFile() === true;
  } catch (err) {
    if (err instanceof BeneathError) return false;
    throw err;
  } finally {
    if (parent && parent !== dir) parent.close();
  }
}

/** Builds `spec.docker.image` from the context (streamed as a tar); progress lines go to `progress`. */
export async function buildImage(
  engine: EngineClient,
  spec: DockerWorkspaceSpec,
  nodeFolder: string,
  progress: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const d = spec.docker;
  const build = d.build!;
  const dir = openBuildContext(nodeFolder, build.context);
  try {
    await buildFrom(engine, d.image, build, dir, progress, signal);
  } finally {
    dir.close();
  }
}

async function buildFrom(
  engine: EngineClient,
  image: string,
  build: NonNullable<DockerSettings['build']>,
  dir: Dir,
  progress: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  // A context of `.` exists from the start (the empty project folder): the Dockerfile tells
  // whether the project has been synced yet.
  const dockerfile = build.dockerfile ?? 'Dockerfile';
  if (!hasFile(dir, dockerfile)) {
    throw new AgentError(
      'BUILD_CONTEXT_MISSING',
      `The Dockerfile ${dockerfile} is not in the build context ${build.context} on the node`,
      {
        provider: 'docker',
        hint: 'Sync the project to the node first (`vendetta workspace up` does), then create the workspace again.',
      },
    );
  }
  const r = await streamBuild(engine, dockerCalls.build(image, build), tarDirectory(dir), progress, signal);
  if (r.failure !== undefined) {
    throw new AgentError('BUILD_FAILED', `Building the image ${image} failed: ${r.failure}`, {
      provider: 'docker',
      hint: `Fix the Dockerfile in ${build.context}; the build's last output:\n${r.lastOutput}`,
    });
  }
}

/** What a build's progress stream ended with: the error, its output's last 4 kB and last lines. */
export interface BuildOutcome {
  failure?: string;
  output: string;
  lastOutput: string;
}

const stepLines = (line: string): string | undefined => (/^Step \d+\/\d+ :/.test(line) ? line : undefined);

/**
 * Runs `POST /build` with a context tar; each output line `describe` turns into words (by default
 * the `Step n/m :` lines) goes to `progress`.
 */
export async function streamBuild(
  engine: EngineClient,
  call: ReturnType<typeof dockerCalls.build>,
  body: AsyncIterable<Buffer> | Buffer,
  progress: (line: string) => void,
  signal?: AbortSignal,
  describe: (line: string) => string | undefined = stepLines,
): Promise<BuildOutcome> {
  const tail = new TailBuffer(4_000);
  let pending = '';
  let failure: string | undefined;
  const onLine = (line: string): void => {
    const m = parseBuildLine(line);
    if (!m) return;
    if (m.kind === 'error') failure = m.message;
    if (m.kind === 'stream') {
      tail.push(Buffer.from(m.text));
      for (const text of m.text.split('\n')) {
        const words = describe(text.trim());
        if (words !== undefined) progress(words);
      }
    }
  };
  await engine.send(call, {
    body,
    contentType: 'application/x-tar',
    timeoutMs: BUILD_TIMEOUT_MS,
    signal,
    onChunk: (chunk) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
    },
  });
  if (pending) onLine(pending);
  const output = tail.toString();
  const lastOutput = output.trim().split('\n').slice(-10).join('\n');
  return { ...(failure !== undefined ? { failure } : {}), output, lastOutput };
}
