/**
 * The instance's file API as the LXC provider uses it: pushing files (seed files, the sshd unit,
 * putFiles, an exec's env file) and looking up whether the image has what the workspace SSH server
 * needs. Apart from provider.ts because these are plain LXD calls on one instance, with no provider state.
 */
import { AgentError } from '../../errors';
import { signalOf, type CallOptions, type ProviderCreateRequest } from '../contract';
import { fileHeaders, lxdCalls } from './api';
import type { LxdClient } from './client';
import { lxcSpec, missing } from './refusals';
import { pushWaves, type InstanceFile } from './systemd';

/** The image must have the OpenSSH server (and systemd, which runs it): what it lacks, as SSHD_MISSING. */
export async function lackingSshd(
  client: LxdClient,
  id: string,
  req: ProviderCreateRequest,
  /** The server answers HEAD (instance_file_head): the type without the file (sshd is ~1 MB). */
  head: boolean,
): Promise<AgentError | undefined> {
  const needed = [
    [req.ssh.binary, 'no OpenSSH server'],
    ['/lib/systemd/systemd', 'no systemd (the workspace SSH server runs as a systemd unit)'],
  ] as const;
  // Both looked up at once; the first one missing is said.
  const found = await Promise.all(
    needed.map(async ([path]) => {
      const r = await client.send(
        {
          method: head ? 'HEAD' : 'GET',
          path: `/1.0/instances/${encodeURIComponent(id)}/files`,
          query: { path },
          accept: [200, 404],
          what: `look for ${path} in the instance ${id}`,
        },
        { timeoutMs: 30_000, maxBody: 64 * 1024 * 1024 },
      );
      return r.status === 200 && r.headers['x-lxd-type'] !== 'directory';
    }),
  );
  const lacking = needed.find((_, i) => !found[i]);
  if (!lacking) return undefined;
  const [path, what] = lacking;
  return new AgentError('SSHD_MISSING', `The image ${lxcSpec(req.spec).lxc.image} has ${what} (${path} is missing)`, {
    provider: 'lxc',
    hint: 'Use a Debian/Ubuntu image with openssh-server and systemd-sysv (e.g. images:debian/12 on a node with the images remote), or add them to your image.',
  });
}

/** One push per file, a wave of them at once (a folder before what goes in it). */
export async function pushFiles(
  client: LxdClient,
  id: string,
  files: InstanceFile[],
  opts: CallOptions = {},
): Promise<void> {
  for (const wave of pushWaves(files)) await Promise.all(wave.map((f) => pushFile(client, id, f, opts)));
}

export async function pushFile(client: LxdClient, id: string, f: InstanceFile, opts: CallOptions): Promise<void> {
  const body =
    f.type === 'symlink' ? Buffer.from(f.target) : f.type === 'file' ? Buffer.from(f.content ?? '') : Buffer.alloc(0);
  const headers = fileHeaders(
    f.type === 'symlink'
      ? { type: 'symlink', mode: 0o777 }
      : {
          type: f.type,
          mode: f.mode,
          ...(f.uid !== undefined ? { uid: f.uid } : {}),
          ...(f.gid !== undefined ? { gid: f.gid } : {}),
        },
  );
  // Without this content type LXD writes an empty file and says nothing.
  const r = await client.send(
    { ...lxdCalls.filePut(id, f.path), headers },
    { body, contentType: 'application/octet-stream', timeoutMs: 60_000, ...signalOf(opts) },
  );
  if (r.status === 404) missing(id);
}
