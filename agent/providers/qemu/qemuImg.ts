/** qemu-img: what a base image is (format, size), and a workspace's overlay on it. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AgentError } from '../../errors';
import { overlayArgv } from './argv';

const run = promisify(execFile);

export interface ImageInfo {
  format: string;
  virtualSize: number;
}

export function parseImageInfo(json: string): ImageInfo {
  const v = JSON.parse(json) as { format?: unknown; 'virtual-size'?: unknown };
  if (typeof v.format !== 'string' || typeof v['virtual-size'] !== 'number')
    throw new Error(`unexpected qemu-img info output: ${json.slice(0, 200)}`);
  return { format: v.format, virtualSize: v['virtual-size'] };
}

async function qemuImg(args: string[], what: string): Promise<string> {
  try {
    return (await run('qemu-img', args, { timeout: 120_000, maxBuffer: 4 * 1024 * 1024 })).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT')
      throw new AgentError('PROVIDER_UNAVAILABLE', 'qemu-img is not installed on this node', {
        provider: 'qemu',
        hint: 'Install it (e.g. `apt-get install qemu-utils`).',
        cause: err,
      });
    throw new AgentError('PROVIDER_ERROR', `qemu-img could not ${what}`, {
      provider: 'qemu',
      hint: (e.stderr ?? '').trim().slice(0, 400) || e.message,
      cause: err,
    });
  }
}

/** The overlay, in the base image's own format, grown to `sizeBytes` when that is larger than the base. */
export async function createOverlay(base: string, disk: string, sizeBytes?: number): Promise<void> {
  const info = parseImageInfo(await qemuImg(['info', '--output=json', base], `read ${base}`));
  const grow = sizeBytes !== undefined && sizeBytes > info.virtualSize ? sizeBytes : undefined;
  await qemuImg(overlayArgv({ path: base, format: info.format }, disk, grow), `make the overlay ${disk} on ${base}`);
}
