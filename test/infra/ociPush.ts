/**
 * Publishes a Dev Container Feature to a test registry as `devcontainer features publish` does (an
 * OCI artifact: an empty `application/vnd.devcontainers` config and one
 * `application/vnd.devcontainers.layer.v1+tar` layer holding the feature folder's tar), over the
 * registry's HTTP API with basic auth. The registry listens inside a node's network namespace, so
 * this file also runs as a program there: `node -r tsx/cjs ociPush.ts HOST REPO TAG TARFILE [USER:PASS]`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function pushFeatureArtifact(opts: {
  host: string;
  repo: string;
  tag: string;
  tar: Buffer;
  user?: string;
}): Promise<string> {
  const auth: Record<string, string> = opts.user
    ? { authorization: `Basic ${Buffer.from(opts.user).toString('base64')}` }
    : {};
  const base = `http://${opts.host}/v2/${opts.repo}`;
  const blob = async (data: Buffer): Promise<string> => {
    const digest = sha(data);
    const start = await fetch(`${base}/blobs/uploads/`, { method: 'POST', headers: auth });
    if (start.status !== 202) throw new Error(`blob upload start: ${start.status} ${await start.text()}`);
    const location = new URL(start.headers.get('location')!, `http://${opts.host}`);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: data,
    });
    if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
    return digest;
  };
  const config = Buffer.from('{}');
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.devcontainers', digest: await blob(config), size: config.length },
      layers: [
        {
          mediaType: 'application/vnd.devcontainers.layer.v1+tar',
          digest: await blob(opts.tar),
          size: opts.tar.length,
          annotations: { 'org.opencontainers.image.title': `devcontainer-feature-${opts.repo.split('/').pop()}.tgz` },
        },
      ],
    }),
  );
  const r = await fetch(`${base}/manifests/${opts.tag}`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    body: manifest,
  });
  if (r.status !== 201) throw new Error(`manifest: ${r.status} ${await r.text()}`);
  return sha(manifest);
}

if (require.main === module) {
  const [host, repo, tag, file, user] = process.argv.slice(2);
  pushFeatureArtifact({
    host: host!,
    repo: repo!,
    tag: tag!,
    tar: readFileSync(file!),
    ...(user ? { user } : {}),
  }).then(
    (digest) => console.log(digest),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
