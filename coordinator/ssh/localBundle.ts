/**
 * The agent bundle this coordinator installs (dist/agent.js): its checksum, and the version and
 * build id it reports itself (`node agent.js version`), which name its directory on a node.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { VendettaError } from '../errors';

export interface LocalBundle {
  path: string;
  sha256: string;
  size: number;
  version: string;
  buildId: string;
  protocolVersion: number;
  /** `<version>-<buildId>`: the directory under ~/.vendetta-agent on a node. */
  dirName: string;
}

const cache = new Map<string, Promise<LocalBundle>>();

function installFailed(message: string, cause?: unknown): VendettaError {
  return new VendettaError('AGENT_INSTALL_FAILED', message, {
    hint: 'Reinstall vendetta (or run `npm run build` in a source checkout) so that dist/agent.js is complete.',
    cause,
  });
}

function runVersion(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path, 'version'],
      { timeout: 15_000, env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, maxBuffer: 1 << 16 },
      (err, stdout) => {
        if (err) reject(err);
        else resolve(stdout);
      },
    );
  });
}

export async function readLocalBundle(path: string): Promise<LocalBundle> {
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw installFailed(`The agent bundle ${path} is missing`, err);
  }
  const key = `${path}\0${st.mtimeMs}\0${st.size}`;
  let p = cache.get(key);
  if (!p) {
    p = load(path);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

async function load(path: string): Promise<LocalBundle> {
  const data = await readFile(path);
  const sha256 = createHash('sha256').update(data).digest('hex');
  let out: string;
  try {
    out = await runVersion(path);
  } catch (err) {
    throw installFailed(`The agent bundle ${path} did not report its version`, err);
  }
  let v: { version?: unknown; buildId?: unknown; protocolVersion?: unknown };
  try {
    v = JSON.parse(out.trim()) as typeof v;
  } catch (err) {
    throw installFailed(
      `The agent bundle ${path} printed no version JSON (got ${JSON.stringify(out.slice(0, 60))})`,
      err,
    );
  }
  if (
    typeof v.version !== 'string' ||
    !/^[0-9A-Za-z.+_-]{1,64}$/.test(v.version) ||
    typeof v.buildId !== 'string' ||
    !/^[0-9A-Za-z]{4,64}$/.test(v.buildId) ||
    typeof v.protocolVersion !== 'number'
  ) {
    throw installFailed(`The agent bundle ${path} reported a malformed version: ${out.trim().slice(0, 200)}`);
  }
  return {
    path,
    sha256,
    size: data.length,
    version: v.version,
    buildId: v.buildId,
    protocolVersion: v.protocolVersion,
    dirName: `${v.version}-${v.buildId}`,
  };
}
