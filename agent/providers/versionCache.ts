/**
 * Remembers what a version probe (`qemu-system-x86_64 --version`, `lxc-start --version`) printed for
 * as long as the binary it ran is the same file (path, inode, size, mtime). Versions change only when
 * the package does, and spawning those binaries is most of what a cold `node/inspect` costs.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Probe, ProbeOutcome, ProbeRunner } from './contract';

export function cachingVersionRunner(inner: ProbeRunner, searchPath: string): ProbeRunner {
  const cache = new Map<string, { binary: string; outcome: ProbeOutcome }>();
  return {
    async run(probe: Probe, timeoutMs: number): Promise<ProbeOutcome> {
      if (probe.kind !== 'exec') return inner.run(probe, timeoutMs);
      const binary = binaryIdentity(probe.file, searchPath);
      // Not found: the runner says so in its own words, and nothing is remembered.
      if (binary === undefined) return inner.run(probe, timeoutMs);
      const key = [probe.file, ...probe.args].join('\0');
      const hit = cache.get(key);
      if (hit && hit.binary === binary) return hit.outcome;
      const outcome = await inner.run(probe, timeoutMs);
      if (outcome.ok) cache.set(key, { binary, outcome });
      else cache.delete(key);
      return outcome;
    },
  };
}

/** The file `execFile` would run, identified by what changes when it is replaced. */
export function binaryIdentity(file: string, searchPath: string): string | undefined {
  const candidates = file.includes('/')
    ? [file]
    : searchPath
        .split(':')
        .filter(Boolean)
        .map((dir) => join(dir, file));
  for (const c of candidates) {
    try {
      const st = statSync(c);
      if (st.isFile()) return `${c}:${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
