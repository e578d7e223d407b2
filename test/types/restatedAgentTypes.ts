/**
 * The coordinator's protocol and config restate some of the agent's types on purpose (the extension
 * must not depend on agent/). `tsc -b` builds this file: a restated type that drifts fails the build.
 */
import type * as agent from '../../agent/protocol';
import type { Assert, Equals } from '../../common/types/equals';
import type * as config from '../../coordinator/config/types';
import type * as coordinator from '../../coordinator/protocol';

export type _ServiceState = Assert<Equals<coordinator.ServiceState, agent.ServiceState>>;
export type _ServiceStatus = Assert<Equals<coordinator.ServiceStatus, agent.ServiceStatus>>;
export type _ServiceLogLine = Assert<Equals<coordinator.ServiceLogLine, agent.ServiceLogLine>>;
export type _NodeSystem = Assert<Equals<coordinator.NodeSystem, agent.SystemInfo>>;
export type _WorkspaceState = Assert<Equals<coordinator.WorkspaceState, agent.WorkspaceState>>;
export type _WorkspaceProvider = Assert<Equals<coordinator.WorkspaceProvider, agent.ProviderName>>;
// The config's container options are what the agent is sent, but for the shared memory size
// (a size string in the config, resolved to bytes for the wire).
export type _DockerRunOptions = Assert<
  Equals<Omit<config.DockerRunConfig, 'shmSize'>, Omit<agent.DockerRunOptions, 'shmSizeBytes'>>
>;
export type _ShmSize = Assert<Equals<config.ResolvedDockerRun['shmSizeBytes'], agent.DockerRunOptions['shmSizeBytes']>>;
export type _RestartPolicy = Assert<Equals<config.RestartPolicy, agent.RestartPolicy>>;
export type _HookCommand = Assert<Equals<config.HookCommand, agent.HookCommand>>;
// The config also names `initialize`, which runs on the user's machine, never on the node.
export type _HookName = Assert<Equals<Exclude<config.HookName, 'initialize'>, agent.HookName>>;
// Restated by the client protocol from the config (the extension must not depend on the config's validator).
export type _OnAutoForward = Assert<Equals<coordinator.OnAutoForward, config.OnAutoForward>>;
