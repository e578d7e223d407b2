/**
 * The workspace image must be on the node: no registry is assumed. It is either there already
 * (loaded or built by someone) or built here from a `docker.build` context in the project.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { WorkspaceSpec } from '../../protocol';
import { AgentError } from '../../errors';
import { tarDirectory } from '../../tar/encode';
import { dockerCalls } from './api';
import type { EngineClient } from './engine';
import { parseBuildLine } from './parse';
import { TailBuffer } from './stream';

const BUILD_TIMEOUT_MS = 30 * 60_000;

export function imageMissing(image: string): AgentError {
  return new AgentError('IMAGE_NOT_FOUND', `image ${image} is not on node; build or load it there (docker load / docker build)`, {
    provider: 'docker',
    hint: `On the node: \`docker build -t ${image} <dir>\` or \`docker load -i <file>.tar\`; or give docker.build (a context in the project) in the workspace config. No registry is pulled from.`,
  });
}

export async function imageExists(engine: EngineClient, image: string): Promise<boolean> {
  const r = await engine.send(dockerCalls.imageInspect(image), { timeoutMs: 15_000 });
  return r.status === 200;
}

/** The build context folder inside the node folder; it must exist and stay inside. */
export function buildContextDir(nodeFolder: string, context: string): string {
  const dir = join(nodeFolder, context);
  let real: string;
  try {
    real = realpathSync(dir);
  } catch (err) {
    throw new AgentError('BUILD_CONTEXT_MISSING', `The build context ${context} is not in the project folder on the node`, {
      provider: 'docker',
      hint: 'Sync the project to the node first (`vendetta workspace up` does), then create the workspace again.',
      cause: err,
    });
  }
  const rel = relative(realpathSync(nodeFolder), real);
  if (rel.startsWith('..') || rel.startsWith(sep) || !statSync(real).isDirectory()) {
    throw new AgentError('BUILD_FAILED', `The build context ${context} is not a folder inside the project`, {
      provider: 'docker',
      hint: 'docker.build.context must name a folder inside the project.',
    });
  }
  return real;
}

/** Builds `spec.docker.image` from the context (streamed as a tar); progress lines go to `progress`. */
export async function buildImage(engine: EngineClient, spec: WorkspaceSpec, nodeFolder: string, progress: (line: string) => void): Promise<void> {
  const d = spec.docker!;
  const build = d.build!;
  const dir = buildContextDir(nodeFolder, build.context);
  // A context of `.` exists from the start (the empty project folder): the Dockerfile tells
  // whether the project has been synced yet.
  const dockerfile = build.dockerfile ?? 'Dockerfile';
  if (!existsSync(join(dir, dockerfile))) {
    throw new AgentError('BUILD_CONTEXT_MISSING', `The Dockerfile ${dockerfile} is not in the build context ${build.context} on the node`, {
      provider: 'docker',
      hint: 'Sync the project to the node first (`vendetta workspace up` does), then create the workspace again.',
    });
  }
  const tail = new TailBuffer(4_000);
  let pending = '';
  let failure: string | undefined;
  const onLine = (line: string): void => {
    const m = parseBuildLine(line);
    if (!m) return;
    if (m.kind === 'error') failure = m.message;
    if (m.kind === 'stream') {
      tail.push(Buffer.from(m.text));
      const text = m.text.trim();
      if (/^Step \d+\/\d+ :/.test(text)) progress(text);
    }
  };
  await engine.send(dockerCalls.build(d.image, build.dockerfile), {
    body: tarDirectory(dir),
    contentType: 'application/x-tar',
    timeoutMs: BUILD_TIMEOUT_MS,
    onChunk: (chunk) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      lines.forEach(onLine);
    },
  });
  if (pending) onLine(pending);
  if (failure !== undefined) {
    throw new AgentError('BUILD_FAILED', `Building the image ${d.image} failed: ${failure}`, {
      provider: 'docker',
      hint: `Fix the Dockerfile in ${build.context}; the build's last output:\n${tail.toString().trim().split('\n').slice(-10).join('\n')}`,
    });
  }
}
