/**
 * The agent daemon: one per agent home, serving JSON-RPC on `agent.sock` to any number of
 * clients (each `attach` is one). It outlives the SSH sessions that started it, and stops on
 * agent/shutdown, SIGTERM or SIGINT — always through process.exit(0) after cleaning up.
 */
import { chmodSync, closeSync, rmSync, statSync, writeSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { AGENT_READY_FD_ENV, PortsDidChange, WorkspaceDidChange, type NodeInfo } from '../protocol';
import { ownBuildId } from '../buildId';
import { ensureAgentHome, type AgentPaths } from '../home';
import { FileLogger } from '../log/logger';
import { detectProviders, ProviderCache } from '../providers/detect';
import { nodeProbeRunner, probePath } from '../providers/runner';
import { cachingVersionRunner } from '../providers/versionCache';
import { systemInfo } from '../system/info';
import { AGENT_VERSION } from '../version';
import { WorkspaceManager } from '../workspaces/manager';
import { holdInDaemon, serveSyncStream } from '../sync/streamServer';
import { attachServices } from '../services/attach';
import { nodeProviders } from '../workspaces/providers';
import { handlers } from '../handlers';
import { ClientConnection } from './connection';
import type { DaemonContext } from './context';
import { acquireLock, releaseLock } from './lock';
import { IdleWatch } from '../workspaces/idleWatch';
import { PortWatch } from '../workspaces/portWatch';

export interface DaemonOptions {
  paths: AgentPaths;
  env?: NodeJS.ProcessEnv;
  /** Per provider probe. */
  detectTimeoutMs?: number;
  providerCacheMs?: number;
  /** How often the daemon checks that its socket file is still its own. */
  watchdogMs?: number;
}

/** Longest a shutdown waits for clients to take their last answers. */
const SHUTDOWN_GRACE_MS = 3_000;

/** Runs until the daemon stops; resolves with the exit code. */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const { paths } = opts;
  process.umask(0o077);
  ensureAgentHome(paths);
  const logger = new FileLogger(paths.log, { base: { role: 'daemon' } });
  const startedAt = new Date().toISOString();
  const lock = acquireLock(paths.pidFile, { pid: process.pid, startedAt });
  if (!lock.acquired) {
    // Lost a start race: the other daemon serves (or is about to serve) the socket.
    logger.info('another daemon holds the lock; leaving', { holder: lock.holder.pid });
    return 0;
  }
  // We hold the lock: any socket left here is stale.
  rmSync(paths.socket, { force: true });
  rmSync(paths.syncSocket, { force: true });

  const env = opts.env ?? process.env;
  const probes = cachingVersionRunner(nodeProbeRunner, probePath(process.env.PATH));
  const providers = new ProviderCache(
    () => detectProviders({ env, runner: probes, timeoutMs: opts.detectTimeoutMs ?? 2_000 }),
    opts.providerCacheMs ?? 5_000,
  );
  const connections = new Set<ClientConnection>();
  const server = createServer({ allowHalfOpen: true });
  // Half open too: the client ends its side after the archive and still reads the answer.
  const syncServer = createServer({ allowHalfOpen: true });
  let syncListening = false;
  let stopping: Promise<void> | undefined;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));

  const workspaces = new WorkspaceManager({
    home: paths.home,
    stateDir: paths.state,
    logger,
    providers: nodeProviders(env),
  });
  const services = attachServices(workspaces, logger, (type, params) => {
    for (const c of connections) c.notifyInitialized(type, params);
  });
  // Decided here on the node: a workspace with an idleTimeout stops when nothing uses it.
  const idle = new IdleWatch({
    logger,
    candidates: () => workspaces.idleCandidates(),
    stop: async (name) => {
      await workspaces.stop(name, 'idle');
      // Clients (the coordinator, and through it the tree) learn it without polling.
      for (const c of connections) c.notifyInitialized(WorkspaceDidChange, { name });
    },
  });
  // Ports a dev server opened inside a workspace, told to whoever is connected.
  const ports = new PortWatch({
    logger,
    targets: () => workspaces.runningWorkspaces(),
    watching: () => connections.size > 0,
    broadcast: (p) => {
      for (const c of connections) c.notifyInitialized(PortsDidChange, p);
    },
  });
  const daemon: DaemonContext = {
    pid: process.pid,
    startedAt,
    buildId: ownBuildId(),
    version: AGENT_VERSION,
    endpoint: {
      socket: resolve(paths.socket),
      // Said only while the daemon listens there.
      get syncSocket() {
        return syncListening ? resolve(paths.syncSocket) : undefined;
      },
      execPath: process.execPath,
      script: resolve(process.argv[1] ?? __filename),
    },
    paths,
    logger,
    async nodeInfo(): Promise<NodeInfo> {
      const [system, found] = await Promise.all([systemInfo(paths.home), providers.get()]);
      return { agentVersion: AGENT_VERSION, system, providers: found };
    },
    workspaces,
    services,
    ports,
    requestShutdown(reason) {
      stopping ??= stop(reason);
    },
  };

  async function stop(reason: string): Promise<void> {
    logger.info('stopping', { reason, connections: connections.size });
    clearInterval(watchdog);
    idle.dispose();
    ports.dispose();
    server.close();
    syncServer.close();
    rmSync(paths.socket, { force: true });
    rmSync(paths.syncSocket, { force: true });
    const closed = [...connections].map((c) => new Promise<void>((resolve) => c.onClose(resolve)));
    for (const c of connections) c.end(`the daemon is stopping (${reason})`);
    await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, SHUTDOWN_GRACE_MS))]);
    releaseLock(paths.pidFile, process.pid);
    logger.info('stopped', { reason });
    finished();
  }

  let nextId = 0;
  server.on('connection', (socket: Socket) => {
    const id = ++nextId;
    try {
      const conn = new ClientConnection(socket, id, daemon, handlers);
      connections.add(conn);
      conn.onClose(() => connections.delete(conn));
      logger.debug('client connected', { connection: id });
    } catch (err) {
      logger.error('could not set up a connection', { connection: id, err });
      socket.destroy();
    }
  });
  server.on('error', (err) => logger.error('server error', { err }));
  syncServer.on('connection', (socket: Socket) =>
    serveSyncStream(socket, (name) => holdInDaemon(workspaces, name), logger),
  );
  syncServer.on('error', (err) => logger.error('sync socket error', { err }));

  try {
    await listen(server, paths.socket);
  } catch (err) {
    releaseLock(paths.pidFile, process.pid);
    logger.error('cannot listen on the agent socket', { socket: paths.socket, err });
    throw err;
  }
  chmodSync(paths.socket, 0o600);
  await listen(syncServer, paths.syncSocket).then(
    () => {
      chmodSync(paths.syncSocket, 0o600);
      syncListening = true;
    },
    // Syncs then run `sync-receive`, as with an agent that has no sync socket.
    (err: unknown) => logger.warn('cannot listen on the sync socket', { socket: paths.syncSocket, err }),
  );
  const socketIno = statSync(paths.socket).ino;
  tellStarterReady();
  // A client's first question after the handshake is node/inspect: its provider detection starts now.
  void providers.get().catch(() => undefined);

  // Someone removed or replaced our socket: no client can reach us any more, so make room
  // for a daemon that can be reached.
  const watchdog = setInterval(() => {
    let ino: number | undefined;
    try {
      ino = statSync(paths.socket).ino;
    } catch {
      ino = undefined;
    }
    if (ino !== socketIno) daemon.requestShutdown('the socket file was removed or replaced');
  }, opts.watchdogMs ?? 5_000);
  watchdog.unref();

  const onSignal = (sig: NodeJS.Signals): void => daemon.requestShutdown(sig);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Started detached (its own session), but a HUP must never stop it.
  process.on('SIGHUP', () => logger.info('ignoring SIGHUP'));
  // A bug in one request's code path must not take every client down with it.
  process.on('uncaughtException', (err) => logger.error('uncaught exception', { err }));
  process.on('unhandledRejection', (reason) =>
    logger.error('unhandled rejection', { err: reason instanceof Error ? reason : new Error(String(reason)) }),
  );

  logger.info('started', {
    version: AGENT_VERSION,
    buildId: daemon.buildId,
    node: process.version,
    socket: paths.socket,
  });
  // In the background: clients are served meanwhile, and a slow engine delays nobody.
  void workspaces
    .reconcile()
    .catch((err: unknown) => logger.warn('workspace reconciliation failed', { err }))
    .then(() => services.resume())
    .then(() => {
      idle.start();
      ports.start();
    });
  await done;
  return 0;
}

/** The attach that started this daemon waits on this fd instead of polling the socket. */
function tellStarterReady(): void {
  const fd = Number(process.env[AGENT_READY_FD_ENV]);
  delete process.env[AGENT_READY_FD_ENV]; // not for the processes this daemon starts
  if (!Number.isInteger(fd) || fd < 3) return;
  try {
    writeSync(fd, 'ready\n');
    closeSync(fd);
  } catch {
    // The attach that started us is gone: nobody waits.
  }
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
