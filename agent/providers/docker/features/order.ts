/**
 * The order features are installed in (containers.dev/implementors/features "Installation order"):
 * in rounds, each round takes the features whose `dependsOn` (hard) and `installsAfter` (soft: only
 * when that feature is installed too) are all installed already; of those, only the ones with the
 * highest `overrideFeatureInstallOrder` priority (earlier in the list: higher) go this round, sorted
 * by reference so the order never depends on how the project listed them. A round with nothing
 * ready is a cycle. Pure.
 */
import { AgentError } from '../../../errors';
import { parseImageRef } from '../registryAuth';

export interface OrderNode {
  /** The reference as written (unique among the nodes). */
  ref: string;
  /** The feature's own `id` (devcontainer-feature.json). */
  id: string;
  dependsOn: string[];
  installsAfter: string[];
}

/** A reference without its version: the OCI repository, or the project folder of a local feature. */
export function featureResource(ref: string): string {
  if (ref.startsWith('./') || ref.startsWith('../')) return ref.replace(/\/+$/, '');
  return parseImageRef(ref).name.toLowerCase();
}

function matches(n: OrderNode, ref: string): boolean {
  return featureResource(n.ref) === featureResource(ref) || n.id === ref;
}

export function installOrder<N extends OrderNode>(nodes: readonly N[], override: readonly string[] = []): N[] {
  const deps = new Map<N, N[]>();
  for (const n of nodes) {
    const hard = n.dependsOn.map((d) => {
      const found = nodes.find((o) => o !== n && matches(o, d));
      if (!found)
        throw new AgentError(
          'FEATURE_NOT_FOUND',
          `The feature ${n.ref} depends on ${d}, which is not among the features`,
          {
            provider: 'docker',
            hint: `Add ${d} to the features of devcontainer.json.`,
          },
        );
      return found;
    });
    const soft = nodes.filter((o) => o !== n && n.installsAfter.some((a) => matches(o, a)));
    deps.set(n, [...new Set([...hard, ...soft])]);
  }
  const priority = (n: N): number => {
    const i = override.findIndex((o) => matches(n, o));
    return i < 0 ? 0 : override.length - i;
  };
  const done = new Set<N>();
  const order: N[] = [];
  let remaining = [...nodes];
  while (remaining.length) {
    const ready = remaining.filter((n) => deps.get(n)!.every((d) => done.has(d)));
    if (ready.length === 0) {
      throw new AgentError(
        'FEATURE_CYCLE',
        `The features ${remaining.map((n) => n.ref).join(', ')} wait for each other (dependsOn/installsAfter form a cycle)`,
        {
          provider: 'docker',
          hint: 'Remove one of the features, or ask its author to drop the dependency that closes the cycle.',
        },
      );
    }
    const top = Math.max(...ready.map(priority));
    const round = ready
      .filter((n) => priority(n) === top)
      .sort((a, b) =>
        featureResource(a.ref) < featureResource(b.ref)
          ? -1
          : featureResource(a.ref) > featureResource(b.ref)
            ? 1
            : a.ref < b.ref
              ? -1
              : 1,
      );
    for (const n of round) done.add(n);
    order.push(...round);
    remaining = remaining.filter((n) => !done.has(n));
  }
  return order;
}
