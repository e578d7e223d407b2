/**
 * The Node.js binary this coordinator runs on (process.execPath), described for an upload to a
 * node that has none: its version, platform, machine, checksum and what it needs of the node's C
 * library. Read once per file (path, mtime, size); hashing 100 MB takes a fraction of a second.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { VendettaError } from '../errors';
import { readElfNeeds, type ElfNeeds } from './elfNeeds';

export interface LocalRuntime {
  path: string;
  /** "v20.20.2". */
  version: string;
  platform: NodeJS.Platform;
  needs: ElfNeeds;
  sha256: string;
  size: number;
  /** `node-<version>-<machine>-<sha12>`: its directory under ~/.vendetta-agent/runtime on a node. */
  dirName: string;
}

const cache = new Map<string, Promise<LocalRuntime>>();

function notUploadable(message: string, hint: string, cause?: unknown): VendettaError {
  return new VendettaError('NODE_RUNTIME_MISSING', message, { hint, cause });
}

/** The runtime at `path` (default: the running one); refuses what is not a standalone Linux Node.js. */
export async function readLocalRuntime(
  path = process.execPath,
  info: { version: string; platform: NodeJS.Platform; electron?: string } = {
    version: process.version,
    platform: process.platform,
    electron: process.versions.electron,
  },
): Promise<LocalRuntime> {
  if (info.platform !== 'linux') {
    throw notUploadable(
      `This coordinator runs on ${info.platform}, so its Node.js cannot run on a Linux node`,
      'Install Node.js 18 or newer on the node, or let vendetta use its package manager (--install-runtime package).',
    );
  }
  if (info.electron) {
    throw notUploadable(
      `This coordinator runs inside Electron ${info.electron} (VS Code), not a standalone Node.js it could upload`,
      'Run `vendetta node add` from a terminal where `node` is Node.js 18 or newer, or use --install-runtime package.',
    );
  }
  let st;
  try {
    st = await stat(path);
  } catch (err) {
    throw notUploadable(
      `The coordinator's own Node.js ${path} cannot be read`,
      'Install Node.js 18 or newer on the node, or use --install-runtime package.',
      err,
    );
  }
  const key = `${path}\0${st.mtimeMs}\0${st.size}\0${info.version}`;
  let p = cache.get(key);
  if (!p) {
    p = load(path, info.version, info.platform, st.size);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

async function load(path: string, version: string, platform: NodeJS.Platform, size: number): Promise<LocalRuntime> {
  let needs: ElfNeeds;
  const fh = await open(path, 'r');
  try {
    needs = await readElfNeeds(async (offset, length) => {
      const b = Buffer.alloc(length);
      const { bytesRead } = await fh.read(b, 0, length, offset);
      return b.subarray(0, bytesRead);
    });
  } catch (err) {
    throw notUploadable(
      `The coordinator's own Node.js ${path} is not an executable vendetta can check`,
      'Install Node.js 18 or newer on the node, or use --install-runtime package.',
      err,
    );
  } finally {
    await fh.close();
  }
  const sha256 = await new Promise<string>((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('error', reject)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')));
  });
  return {
    path,
    version,
    platform,
    needs,
    sha256,
    size,
    dirName: `node-${version}-${needs.machine}-${sha256.slice(0, 12)}`,
  };
}
