/** Which WorkspaceProvider runs a workspace of a given kind on this node. */
import { AgentError } from '../errors';
import { notRunnableReason, RUNNABLE_PROVIDERS, type ProviderName } from '../protocol';
import type { WorkspaceProvider } from '../providers/contract';
import { dockerSocket } from '../providers/docker/detect';
import { DockerProvider } from '../providers/docker/provider';

export type ProviderLookup = (name: ProviderName) => WorkspaceProvider;

export function nodeProviders(env: NodeJS.ProcessEnv): ProviderLookup {
  let docker: { socket: string; provider: DockerProvider } | undefined;
  return (name) => {
    if (!RUNNABLE_PROVIDERS.includes(name)) {
      throw new AgentError('PROVIDER_UNAVAILABLE', `This agent cannot run ${name} workspaces: ${notRunnableReason(name)}`, {
        provider: name,
        hint: 'Use provider: docker.',
      });
    }
    const where = dockerSocket(env);
    if ('error' in where) throw new AgentError('PROVIDER_UNAVAILABLE', `Docker is not usable: ${where.error}`, { provider: 'docker', hint: where.hint });
    if (docker?.socket !== where.socket) docker = { socket: where.socket, provider: DockerProvider.forSocket(where.socket) };
    return docker.provider;
  };
}
