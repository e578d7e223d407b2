/**
 * The build id: first 12 hex digits of the sha256 of the running bundle. A coordinator whose
 * bundle hashes differently upgrades the agent, so it must be computed from the file itself.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function buildIdOf(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12);
}

/** The build id of the file this code was loaded from (dist/agent.js once bundled). */
export function ownBuildId(): string {
  cached ??= buildIdOf(__filename);
  return cached;
}
