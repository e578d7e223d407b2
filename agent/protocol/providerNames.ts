/** The provider names of the contract, apart from index.ts so the method files can name them without a cycle. */
export type ProviderName = 'docker' | 'lxc' | 'qemu';
export const PROVIDER_NAMES: readonly ProviderName[] = ['docker', 'lxc', 'qemu'];
/**
 * The providers this agent can run workspaces with: every one it detects.
 */
export type RunnableProviderName = Extract<ProviderName, 'docker' | 'lxc' | 'qemu'>;
export const RUNNABLE_PROVIDERS: readonly ProviderName[] = [
  'docker',
  'lxc',
  'qemu',
] satisfies readonly RunnableProviderName[];

/** Why a provider outside RUNNABLE_PROVIDERS is refused, for errors and node reports alike. */
export function notRunnableReason(name: ProviderName): string {
  return `this version of vendetta cannot run ${name} workspaces yet; it runs ${RUNNABLE_PROVIDERS.join(' and ')} workspaces`;
}
