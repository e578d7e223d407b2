/**
 * The image with a workspace's features installed, named by the coordinator
 * (`vendetta-ws/<workspace>:<hash of the inputs>`): used as is when the engine has it (a second
 * `up` builds nothing), else built on the node on top of the base image (pulled, or built from
 * `docker.build` first). Its label says what the container needs from the features.
 */
import { tarBuffer } from '../../../../common/tar/encode';
import { PROGRESS_WARNING_PREFIX, type DockerWorkspaceSpec } from '../../../protocol';
import { AgentError } from '../../../errors';
import { dockerCalls } from '../api';
import type { EngineClient } from '../engine';
import { buildImage, ensureImage, streamBuild } from '../image';
import { parseImageInspect, type ImageInspect } from '../parse';
import {
  featureDir,
  featureOfOutput,
  featuresBuildContext,
  INSTALLING,
  FEATURES_LABEL,
  parseFeaturesLabel,
  type FeaturesSummary,
} from './dockerfile';
import { nodeResolveDeps, resolveFeatures, type ResolveDeps } from './resolve';

export interface FeaturesImage {
  summary: FeaturesSummary;
  /** The values the features' containerEnv have in the image (`${PATH}` in them expanded by the build). */
  env: Record<string, string>;
}

async function inspectImage(
  engine: EngineClient,
  image: string,
  signal?: AbortSignal,
): Promise<ImageInspect | undefined> {
  const r = await engine.json(dockerCalls.imageInspect(image), { timeoutMs: 15_000, signal });
  return r.status === 200 ? parseImageInspect(r.value) : undefined;
}

function fromImage(found: ImageInspect, summary: FeaturesSummary): FeaturesImage {
  const env: Record<string, string> = {};
  for (const k of summary.containerEnv) if (found.env[k] !== undefined) env[k] = found.env[k]!;
  return { summary, env };
}

export async function ensureFeaturesImage(
  engine: EngineClient,
  spec: DockerWorkspaceSpec,
  nodeFolder: string,
  progress: (line: string) => void,
  signal?: AbortSignal,
  deps: ResolveDeps = nodeResolveDeps(nodeFolder),
): Promise<FeaturesImage> {
  const features = spec.docker.features!;
  const image = spec.docker.image;
  const made = await inspectImage(engine, image, signal);
  const label = parseFeaturesLabel(made?.labels[FEATURES_LABEL]);
  if (made && label) return fromImage(made, label);

  if (spec.docker.build) {
    progress(`Building the image ${features.base}`);
    await buildImage(
      engine,
      { ...spec, docker: { ...spec.docker, image: features.base } },
      nodeFolder,
      progress,
      signal,
    );
  } else await ensureImage(engine, features.base, progress, signal);
  const base = await inspectImage(engine, features.base, signal);
  const ordered = await resolveFeatures(features, deps, progress, signal);
  for (const f of ordered)
    if (f.meta.ignored.length)
      progress(
        `${PROGRESS_WARNING_PREFIX}the feature ${f.ref} sets ${f.meta.ignored.join(', ')}, which Vendetta does not apply`,
      );
  progress(`Installing the features in this order: ${ordered.map((f) => f.ref).join(', ')}`);
  const { entries, summary } = featuresBuildContext(features.base, base?.user, ordered, {
    remoteUser: spec.user,
    containerUser: 'root',
  });
  const r = await streamBuild(
    engine,
    dockerCalls.build(image, { labels: { [FEATURES_LABEL]: JSON.stringify(summary) } }),
    tarBuffer(entries),
    progress,
    signal,
    (line) => {
      // The one RUN step is the whole install: say which feature it is at instead.
      const dir = line.startsWith(INSTALLING) ? line.slice(INSTALLING.length) : undefined;
      if (dir !== undefined)
        return `Installing the feature ${ordered.find((f, i) => featureDir(i, f) === dir)?.ref ?? dir}`;
      return /^Step \d+\/\d+ : (FROM|COPY|ENV|USER) /.test(line) ? line : undefined;
    },
  );
  if (r.failure !== undefined) {
    const dir = featureOfOutput(r.output);
    const failed = ordered.find((f, i) => featureDir(i, f) === dir);
    if (failed) {
      throw new AgentError('FEATURE_INSTALL_FAILED', `The feature ${failed.ref} failed to install: ${r.failure}`, {
        provider: 'docker',
        hint: `Its install.sh failed on the image ${features.base}; its last output:\n${r.lastOutput}`,
      });
    }
    throw new AgentError('BUILD_FAILED', `Building the image ${image} with the features failed: ${r.failure}`, {
      provider: 'docker',
      hint: `The build's last output:\n${r.lastOutput}`,
    });
  }
  const built = await inspectImage(engine, image, signal);
  if (!built)
    throw new AgentError('BUILD_FAILED', `The engine has no image ${image} after building it`, {
      provider: 'docker',
      hint: 'Check the engine on the node (`docker images`).',
    });
  return fromImage(built, summary);
}
