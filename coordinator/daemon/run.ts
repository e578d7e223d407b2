/**
 * `vendetta coordinator run`: the coordinator in the foreground (what auto-start spawns,
 * detached). Takes the instance lock, loads the registry, connects the nodes, serves the socket,
 * and on SIGTERM/SIGINT or `coordinator/shutdown` closes the agent links and removes its socket
 * and lock before exiting 0. Process-level guards log a stray exception and keep serving.
 */
import { agentBundlePath, homePaths, type HomePaths } from '../home';
import { join } from 'node:path';
import { FileLogger, logLevelFrom } from '../../common/log/fileLogger';
import { NodeManager } from '../nodes/nodeManager';
import { NodeRegistry } from '../nodes/registry';
import { realSshLayer, type SshLayer } from '../nodes/sshLayer';
import { ForwardRefused, NodesDidChange, PortsDidChange, ServicesDidChange, WorkspacesDidChange } from '../protocol';
import { ServicesManager } from '../services/manager';
import { VERSION } from '../version';
import { WorkspaceManager } from '../workspaces/manager';
import { TunnelRegistry } from '../workspaces/tunnels';
import { createHandlers } from './handlers';
import { acquireInstanceLock, ensureHome } from './instanceLock';
import { CoordinatorServer } from './server';
import { exitWhenFlushed } from '../../common/process/exitWhenFlushed';

export interface RunOptions {
  paths?: HomePaths;
  /** Mirror log lines to stderr (a foreground run on a terminal). */
  logToStderr?: boolean;
  /** Substitutes the SSH layer (tests). */
  ssh?: SshLayer;
}

export async function runCoordinator(opts: RunOptions = {}): Promise<void> {
  const paths = opts.paths ?? homePaths();
  ensureHome(paths);
  // Per-request lines are debug: written only when asked for (VENDETTA_LOG_LEVEL=debug), since the
  // log is written synchronously on the request path.
  const log = new FileLogger(join(paths.logsDir, 'coordinator.log'), {
    createDir: true,
    level: logLevelFrom(process.env.VENDETTA_LOG_LEVEL),
    ...(opts.logToStderr ? { mirror: process.stderr } : {}),
  });
  let lock;
  try {
    lock = acquireInstanceLock(paths, log);
  } catch (err) {
    log.warn('coordinator not started', { err });
    log.close();
    throw err;
  }
  const startedAt = new Date();
  log.info('coordinator starting', { version: VERSION, home: paths.root, node: process.version });

  process.on('uncaughtException', (err) => log.error('uncaught exception (kept running)', { err }));
  process.on('unhandledRejection', (err) => log.error('unhandled rejection (kept running)', { err }));

  const registry = new NodeRegistry(paths, log);
  const ssh = opts.ssh ?? realSshLayer(paths, log);
  const manager = new NodeManager({ paths, log, registry, ssh, agentBundle: agentBundlePath() });
  const workspaces = new WorkspaceManager({ paths, log, nodes: manager });
  try {
    const n = workspaces.refreshSshConfig();
    if (n) log.info("ssh_config blocks now use this coordinator's ProxyCommand", { blocks: n });
  } catch (err) {
    log.error('refreshing ssh_config failed (blocks keep their old ProxyCommand)', { err });
  }
  const tunnels = new TunnelRegistry(log);
  const services = new ServicesManager(workspaces, log);
  let server: CoordinatorServer | undefined;
  let stopping: Promise<void> | undefined;

  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      log.info('coordinator stopping', { reason });
      const ownsSocket = lock.held();
      registry.close();
      tunnels.close();
      services.close();
      await server?.close(ownsSocket).catch((err: unknown) => log.error('closing the socket failed', { err }));
      await manager.close().catch((err: unknown) => log.error('closing node links failed', { err }));
      lock.release();
      log.info('coordinator stopped', { reason });
      log.close();
      exitWhenFlushed(0);
    })();
    return stopping;
  };

  try {
    registry.reload();
    registry.watch();
    server = new CoordinatorServer({
      socketPath: paths.socket,
      log,
      onTunnel: (socket, token) => tunnels.attach(socket, token),
      handlers: createHandlers({
        paths,
        manager,
        registry,
        ssh,
        workspaces,
        tunnels,
        services,
        log,
        startedAt,
        clientCount: () => server?.clientCount ?? 0,
        // Let the reply go out first.
        shutdown: () => setTimeout(() => void shutdown('shutdown request'), 10),
      }),
    });
    await server.listen();
    if (!lock.held()) throw new Error('the coordinator lock was taken over while starting');
  } catch (err) {
    log.error('coordinator failed to start', { err });
    registry.close();
    services.close();
    await server?.close(false).catch(() => undefined);
    lock.release();
    log.close();
    throw err;
  }

  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => void shutdown(sig));
  manager.onDidChange((nodes) => server?.broadcast(NodesDidChange, { nodes }));
  workspaces.onDidChange((all) => server?.broadcast(WorkspacesDidChange, { workspaces: all }));
  services.onDidChange((ws) => server?.broadcast(ServicesDidChange, ws));
  services.onPortsDidChange((w) => server?.broadcast(PortsDidChange, w));
  services.forwards.onRefused((r) => server?.broadcast(ForwardRefused, r));
  manager.start();
  // The registry is loaded now: watch every node with workspaces, and nodes as they come and go.
  services.watchKnownNodes();
  manager.onDidChange(() => services.watchKnownNodes());
  log.info('coordinator ready', { socket: paths.socket, pid: process.pid, nodes: manager.size });
  if (registry.problem)
    log.warn('nodes.yaml has an error; running with the built-in node only', { problem: registry.problem });
}
