/** Dependency order of a workspace's services: who may start, who waits for whom, stop order. */
import type { ServiceSpec, ServiceState } from '../protocol';

/**
 * The first dependency that is not ready (healthy, or running when it has no health check),
 * with its state; undefined when all are ready.
 */
export function blockingDependency(
  svc: ServiceSpec,
  stateOf: (name: string) => ServiceState | undefined,
): { name: string; state: ServiceState | 'unknown' } | undefined {
  for (const dep of svc.dependsOn) {
    const state = stateOf(dep);
    if (state !== 'healthy' && state !== 'running') return { name: dep, state: state ?? 'unknown' };
  }
  return undefined;
}

export function waitingReason(block: { name: string; state: string }): string {
  return `waiting for ${block.name} (${block.state})`;
}

/**
 * Depth of each service: 0 without dependencies, else one more than its deepest dependency.
 * Unknown dependencies count as depth 0; a cycle (the config validator refuses them) is cut.
 */
export function depths(services: readonly ServiceSpec[]): Map<string, number> {
  const byName = new Map(services.map((s) => [s.name, s]));
  const out = new Map<string, number>();
  const visit = (name: string, seen: Set<string>): number => {
    const known = out.get(name);
    if (known !== undefined) return known;
    const s = byName.get(name);
    if (!s || seen.has(name)) return 0;
    seen.add(name);
    const d = s.dependsOn.reduce((max, dep) => Math.max(max, byName.has(dep) ? visit(dep, seen) + 1 : 0), 0);
    seen.delete(name);
    out.set(name, d);
    return d;
  };
  for (const s of services) visit(s.name, new Set());
  return out;
}

/** Groups to stop one after the other: dependants before what they depend on, each group in parallel. */
export function stopWaves(services: readonly ServiceSpec[]): string[][] {
  const d = depths(services);
  const max = Math.max(-1, ...d.values());
  const waves: string[][] = [];
  for (let level = max; level >= 0; level--) {
    const wave = services.filter((s) => d.get(s.name) === level).map((s) => s.name);
    if (wave.length) waves.push(wave);
  }
  return waves;
}

/** `name` and everything it depends on, transitively (what `services/start name` brings up). */
export function withDependencies(services: readonly ServiceSpec[], name: string): Set<string> {
  const byName = new Map(services.map((s) => [s.name, s]));
  const out = new Set<string>();
  const add = (n: string): void => {
    if (out.has(n) || !byName.has(n)) return;
    out.add(n);
    for (const dep of byName.get(n)!.dependsOn) add(dep);
  };
  add(name);
  return out;
}
