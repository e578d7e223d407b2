/** What the agent reports about its machine (`node/inspect` → system). */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import type { SystemInfo } from '../protocol';
import { osNameFromRelease, parseDfPosix, parseMeminfo, parseOsRelease, type DiskSpace, type MemInfo } from './parsers';

export async function systemInfo(diskPath: string): Promise<SystemInfo> {
  const [osName, mem, disk] = await Promise.all([osPrettyName(), memory(), diskSpace(diskPath)]);
  const load = os.loadavg();
  return {
    hostname: os.hostname(),
    os: osName,
    arch: machine(),
    kernel: os.release(),
    cpus: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    memoryTotalBytes: mem.totalBytes,
    memoryAvailableBytes: mem.availableBytes,
    diskFreeBytes: disk.freeBytes,
    diskTotalBytes: disk.totalBytes,
    load: [load[0] ?? 0, load[1] ?? 0, load[2] ?? 0],
    uptimeSeconds: Math.round(os.uptime()),
    nodeVersion: process.version,
  };
}

/** `uname -m`; os.machine() exists from Node 18.9. */
export function machine(): string {
  const m = (os as { machine?: () => string }).machine;
  return typeof m === 'function' ? m() : os.arch();
}

async function osPrettyName(): Promise<string> {
  for (const file of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      const name = osNameFromRelease(parseOsRelease(await readFile(file, 'utf8')));
      if (name) return name;
    } catch {
      // try the next one
    }
  }
  return `${os.type()} ${os.release()}`;
}

async function memory(): Promise<MemInfo> {
  try {
    const parsed = parseMeminfo(await readFile('/proc/meminfo', 'utf8'));
    if (parsed) return parsed;
  } catch {
    // no /proc: fall through
  }
  return { totalBytes: os.totalmem(), availableBytes: os.freemem() };
}

async function diskSpace(path: string): Promise<DiskSpace> {
  const statfs = (fs.promises as { statfs?: (p: string) => Promise<fs.StatsFs> }).statfs;
  if (typeof statfs === 'function') {
    const s = await statfs(path);
    return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  }
  const out = await new Promise<string>((resolve, reject) =>
    execFile('df', ['-Pk', path], { timeout: 2000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  return parseDfPosix(out) ?? { freeBytes: 0, totalBytes: 0 };
}
