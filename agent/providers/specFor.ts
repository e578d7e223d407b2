/** The spec member a provider runs; a workspace of another provider reaching it is the agent's own mistake. */
import { AgentError } from '../errors';
import type { ProviderName, WorkspaceSpec } from '../protocol';

export function specFor<N extends ProviderName>(
  provider: N,
  spec: WorkspaceSpec,
): Extract<WorkspaceSpec, { provider: N }> {
  if (spec.provider === provider) return spec as Extract<WorkspaceSpec, { provider: N }>;
  throw new AgentError(
    'INVALID_PARAMS',
    `The ${provider} provider was handed a ${String((spec as { provider: unknown }).provider)} workspace`,
    { provider },
  );
}
