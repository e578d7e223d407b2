/**
 * From the features a spec lists to the features to install, in order: each one's folder (from
 * the synced project, or the registry), its devcontainer-feature.json, its options as variables;
 * features named only by another's `dependsOn` are fetched too (with the options given there).
 */
import { readTar } from '../../../../common/tar/decode';
import type { TarInput } from '../../../../common/tar/encode';
import type { DockerFeatures } from '../../../protocol';
import { AgentError } from '../../../errors';
import { tarDirectory } from '../../../tar/directory';
import { openBuildContext } from '../image';
import type { ReadyFeature } from './dockerfile';
import { givenOptions, optionEnv, parseFeatureMetadata, type OptionValue } from './metadata';
import { fetchOciFeature } from './oci';
import { featureResource, installOrder } from './order';

const MAX_FEATURE_BYTES = 64 * 1024 * 1024;
/** More would be a dependsOn chain gone wrong (a registry answering with ever new features). */
const MAX_FEATURES = 64;

export interface ResolveDeps {
  /** The tar of a local feature's folder (a path inside the project), or BUILD_CONTEXT_MISSING. */
  localTar(path: string): AsyncIterable<Buffer>;
  /** The tar of an OCI feature, and its layer digest. */
  ociTar(ref: string, signal?: AbortSignal): Promise<{ digest: string; tar: Buffer }>;
}

export function nodeResolveDeps(nodeFolder: string): ResolveDeps {
  return {
    async *localTar(path) {
      let dir;
      try {
        dir = openBuildContext(nodeFolder, path);
      } catch (err) {
        if (!(err instanceof AgentError) || err.code !== 'BUILD_CONTEXT_MISSING') throw err;
        // Same code: `up` syncs the project and creates again when the project was not there yet.
        throw new AgentError(
          'BUILD_CONTEXT_MISSING',
          `The local feature ./${path} is not in the project folder on the node`,
          {
            provider: 'docker',
            hint: "Check the feature's path in devcontainer.json (relative to devcontainer.json's folder); `vendetta workspace up` syncs the project before it builds.",
            cause: err,
          },
        );
      }
      try {
        yield* tarDirectory(dir);
      } finally {
        dir.close();
      }
    },
    ociTar: (ref, signal) => fetchOciFeature(ref, signal),
  };
}

export const isLocalFeature = (id: string): boolean => id.startsWith('./');

/** The features in install order, each with what its image step needs. */
export async function resolveFeatures(
  features: DockerFeatures,
  deps: ResolveDeps,
  progress: (line: string) => void,
  signal?: AbortSignal,
): Promise<Array<ReadyFeature & { digest?: string }>> {
  const out: Array<
    ReadyFeature & {
      digest?: string;
      dependsOn: string[];
      installsAfter: string[];
      id: string;
      given: Record<string, OptionValue>;
    }
  > = [];
  const queue: Array<{ ref: string; options: Record<string, OptionValue> }> = features.items.map((i) => ({
    ref: i.id,
    options: i.options,
  }));
  while (queue.length) {
    const { ref, options } = queue.shift()!;
    // A dependency already listed (same feature, same options) is installed once.
    if (out.some((f) => featureResource(f.ref) === featureResource(ref) && sameOptions(f.given, options))) continue;
    if (out.length >= MAX_FEATURES)
      throw new AgentError('FEATURE_INVALID', `More than ${MAX_FEATURES} features to install`, {
        provider: 'docker',
        hint: 'Check the dependsOn of the features: they should not pull in this many.',
      });
    progress(`Fetching the feature ${ref}`);
    let files: TarInput[];
    let digest: string | undefined;
    if (isLocalFeature(ref)) files = await tarInputs(deps.localTar(ref.slice(2)), ref);
    else {
      const got = await deps.ociTar(ref, signal);
      digest = got.digest;
      files = await tarInputs([got.tar], ref);
    }
    const metaFile = files.find((f) => f.path === 'devcontainer-feature.json' && f.type === 'file');
    if (!metaFile || !files.some((f) => f.path === 'install.sh' && f.type === 'file'))
      throw new AgentError('FEATURE_NOT_FOUND', `The feature ${ref} has no devcontainer-feature.json and install.sh`, {
        provider: 'docker',
        hint: isLocalFeature(ref)
          ? `A local feature is a folder beside devcontainer.json holding devcontainer-feature.json and install.sh; check ${ref}.`
          : 'Check that the reference names a Dev Container Feature.',
      });
    const meta = parseFeatureMetadata(String(metaFile.data ?? ''), ref);
    const env = optionEnv(meta, options, ref);
    out.push({
      ref,
      id: meta.id,
      meta,
      files,
      env,
      given: options,
      ...(digest ? { digest } : {}),
      dependsOn: Object.keys(meta.dependsOn),
      installsAfter: meta.installsAfter,
    });
    for (const [dep, opts] of Object.entries(meta.dependsOn))
      queue.push({ ref: dep, options: givenOptions(opts, dep) });
  }
  return installOrder(out, features.installOrder ?? []);
}

function sameOptions(a: Record<string, OptionValue>, b: Record<string, OptionValue>): boolean {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && String(a[k]) === String(b[k]));
}

/** The entries of a feature's tar, held in memory (a feature is a few scripts), paths without `./`. */
async function tarInputs(source: AsyncIterable<Buffer> | Iterable<Buffer>, ref: string): Promise<TarInput[]> {
  const out: TarInput[] = [];
  let total = 0;
  const stream = async function* () {
    yield* source;
  };
  for await (const e of readTar(stream())) {
    const path = e.path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    if (path === '' || path === '.') continue;
    if (path.split('/').includes('..') || path.startsWith('/'))
      throw new AgentError(
        'FEATURE_INVALID',
        `The feature ${ref} holds a file outside its folder (${JSON.stringify(path.slice(0, 100))})`,
        {
          provider: 'docker',
          hint: 'The feature is damaged or hostile; do not use it.',
        },
      );
    if (e.type === 'directory') out.push({ path, type: 'directory', mode: e.mode & 0o7777 });
    else if (e.type === 'symlink') out.push({ path, type: 'symlink', mode: 0o777, linkname: e.linkname });
    else if (e.type === 'file') {
      total += e.size;
      if (total > MAX_FEATURE_BYTES)
        throw new AgentError('FEATURE_INVALID', `The feature ${ref} is larger than ${MAX_FEATURE_BYTES} bytes`, {
          provider: 'docker',
          hint: 'A feature is a folder of scripts; check the reference.',
        });
      const chunks: Buffer[] = [];
      for await (const c of e.body()) chunks.push(c);
      out.push({ path, type: 'file', mode: e.mode & 0o7777, data: Buffer.concat(chunks) });
    }
  }
  return out;
}
