/** Wires the services supervisor to the workspace manager and to the daemon's clients. */
import type { Logger } from '../log/logger';
import { ServicesDidChange, type WorkspaceServicesStatus } from '../protocol';
import type { WorkspaceManager } from '../workspaces/manager';
import { ServicesSupervisor } from './supervisor';

export function attachServices(
  workspaces: WorkspaceManager,
  logger: Logger,
  broadcast: (type: typeof ServicesDidChange, status: WorkspaceServicesStatus) => void,
): ServicesSupervisor {
  const services = new ServicesSupervisor({
    targets: { target: (name) => workspaces.serviceTarget(name), names: () => workspaces.names() },
    logger,
    broadcast: (status) => broadcast(ServicesDidChange, status),
  });
  workspaces.setServiceHooks({
    beforeStop: (name) => services.workspaceStopping(name),
    beforeRemove: (name) => services.workspaceRemoving(name),
    beforeRecreate: (name) => services.workspaceRecreating(name),
    portsChosen: (name, dir, spec, choices) => services.portsChosen(name, dir, spec, choices),
  });
  return services;
}
