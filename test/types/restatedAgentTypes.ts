/**
 * The coordinator's protocol restates some of the agent's types on purpose (the extension must not
 * depend on agent/). `tsc -b` builds this file: a restated type that drifts from the agent's fails the build.
 */
import type * as agent from '../../agent/protocol';
import type { Assert, Equals } from '../../common/types/equals';
import type * as coordinator from '../../coordinator/protocol';

export type _ServiceState = Assert<Equals<coordinator.ServiceState, agent.ServiceState>>;
export type _ServiceStatus = Assert<Equals<coordinator.ServiceStatus, agent.ServiceStatus>>;
export type _ServiceLogLine = Assert<Equals<coordinator.ServiceLogLine, agent.ServiceLogLine>>;
export type _NodeSystem = Assert<Equals<coordinator.NodeSystem, agent.SystemInfo>>;
export type _WorkspaceState = Assert<Equals<coordinator.WorkspaceState, agent.WorkspaceState>>;
export type _WorkspaceProvider = Assert<Equals<coordinator.WorkspaceProvider, agent.ProviderName>>;
