/**
 * Which WorkspaceProvider runs a workspace of a given kind on this node: a registry of factories,
 * one per runnable provider (the record type makes a runnable provider without a factory, or a
 * factory for a provider not declared runnable, a compile error).
 */
import { arch } from 'node:os';
import { join } from 'node:path';
import { AgentError } from '../errors';
import { notRunnableReason, RUNNABLE_PROVIDERS, type ProviderName, type RunnableProviderName } from '../protocol';
import type { WorkspaceProvider } from '../providers/contract';
import { dockerSocket } from '../providers/docker/detect';
import { DockerProvider } from '../providers/docker/provider';
import { agentHome } from '../home';
import { qemuBinary } from '../providers/qemu/detect';
import { QemuProvider } from '../providers/qemu/provider';
import { findOnPath } from '../providers/runner';
import { lxdSocket } from '../providers/lxc/detect';
import { LxcProvider } from '../providers/lxc/provider';

export type ProviderLookup = (name: ProviderName) => WorkspaceProvider;

/**
 * Makes a provider for the node as `env` describes it, or throws PROVIDER_UNAVAILABLE saying why
 * it cannot. Called on every lookup: `reuse` is what it returned last time, for it to keep when
 * nothing changed (so a provider is not rebuilt per call, but follows a moved socket).
 */
export type ProviderFactory = (env: NodeJS.ProcessEnv, reuse: WorkspaceProvider | undefined) => WorkspaceProvider;

/** PROVIDER_UNAVAILABLE for a runtime whose socket is not usable, saying why and what to do. */
function unusable(provider: ProviderName, runtime: string, where: { error: string; hint?: string }): AgentError {
  return new AgentError('PROVIDER_UNAVAILABLE', `${runtime} is not usable: ${where.error}`, {
    provider,
    ...(where.hint ? { hint: where.hint } : {}),
  });
}

export const PROVIDER_FACTORIES: Readonly<Record<RunnableProviderName, ProviderFactory>> = {
  docker: (env, reuse) => {
    const where = dockerSocket(env);
    if ('error' in where) throw unusable('docker', 'Docker', where);
    if (reuse instanceof DockerProvider && reuse.engine.socketPath === where.socket) return reuse;
    return DockerProvider.forSocket(where.socket);
  },
  qemu: (env, reuse) => {
    const binary = qemuBinary(arch());
    const path = findOnPath(binary, env.PATH);
    if (!path)
      throw new AgentError(
        'PROVIDER_UNAVAILABLE',
        `QEMU is not usable: ${binary} is not installed (not found on PATH)`,
        { provider: 'qemu', hint: 'Install QEMU on the node (e.g. `apt-get install qemu-system-x86 qemu-utils`).' },
      );
    const root = join(agentHome(env), 'qemu');
    if (reuse instanceof QemuProvider && reuse.opts.root === root && reuse.opts.binary === path) return reuse;
    return new QemuProvider({ root, binary: path });
  },
  lxc: (env, reuse) => {
    const where = lxdSocket(env);
    if ('error' in where) throw unusable('lxc', 'LXD', where);
    if (reuse instanceof LxcProvider && reuse.client.socketPath === where.socket) return reuse;
    return LxcProvider.forSocket(where.socket);
  },
};

function isRunnable(name: ProviderName): name is RunnableProviderName {
  return RUNNABLE_PROVIDERS.includes(name);
}

export function nodeProviders(
  env: NodeJS.ProcessEnv,
  factories: Readonly<Partial<Record<ProviderName, ProviderFactory>>> = PROVIDER_FACTORIES,
): ProviderLookup {
  const made = new Map<ProviderName, WorkspaceProvider>();
  return (name) => {
    const factory = isRunnable(name) ? factories[name] : undefined;
    if (!factory) {
      throw new AgentError(
        'PROVIDER_UNAVAILABLE',
        `This agent cannot run ${name} workspaces: ${notRunnableReason(name)}`,
        {
          provider: name,
          hint: `Use provider: ${RUNNABLE_PROVIDERS.join(' or ')}.`,
        },
      );
    }
    const provider = factory(env, made.get(name));
    made.set(name, provider);
    return provider;
  };
}
