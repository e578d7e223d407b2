/** The provider names of the contract, apart from index.ts so the method files can name them without a cycle. */
export type ProviderName = 'docker' | 'lxc' | 'qemu';
export const PROVIDER_NAMES: readonly ProviderName[] = ['docker', 'lxc', 'qemu'];
/**
 * The providers this agent can run workspaces with. lxc and qemu are detected (what a node has
 * installed) but have no provider yet, so they are reported unavailable and refused.
 */
export type RunnableProviderName = Extract<ProviderName, 'docker'>;
export const RUNNABLE_PROVIDERS: readonly ProviderName[] = ['docker'] satisfies readonly RunnableProviderName[];

/** Why a provider outside RUNNABLE_PROVIDERS is refused, for errors and node reports alike. */
export function notRunnableReason(name: ProviderName): string {
  return `this version of vendetta cannot run ${name} workspaces yet; only ${RUNNABLE_PROVIDERS.join(', ')} is available`;
}
