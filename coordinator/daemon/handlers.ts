/** The coordinator's requests: params validated at the boundary, then handed to the node manager. */
import { VendettaError } from '../errors';
import type { HomePaths } from '../home';
import { nullLogger, type Logger } from '../log';
import type { NodeManager } from '../nodes/nodeManager';
import { localUser } from '../nodes/nodeSummary';
import type { NodeRegistry } from '../nodes/registry';
import type { SshLayer } from '../nodes/sshLayer';
import {
  COORDINATOR_PROTOCOL_VERSION,
  type AddNodeParams,
  type CoordinatorStatus,
  type PurgedWorkspace,
  type RemoveNodeParams,
} from '../protocol';
import { servicesHandlers } from '../services/handlers';
import { ServicesManager } from '../services/manager';
import { VERSION } from '../version';
import { workspaceHandlers } from '../workspaces/handlers';
import { WorkspaceManager } from '../workspaces/manager';
import { workspaceName } from '../workspaces/names';
import { planNodePurge, purgeNodeWorkspaces } from '../workspaces/purgeNode';
import { TunnelRegistry } from '../workspaces/tunnels';
import type { HandlerTable } from './handlerTable';
import { toolCallLogHandler } from './toolCallLog';
import * as v from './validate';
import { RUNTIME_CHOICES } from '../ssh/provideRuntime';

const PREPARE_PROVIDERS = ['docker', 'lxc', 'qemu'] as const;

export interface HandlerDeps {
  paths: HomePaths;
  manager: NodeManager;
  registry: NodeRegistry;
  ssh: SshLayer;
  startedAt: Date;
  clientCount: () => number;
  /** Stops the coordinator after the current reply went out. */
  shutdown: () => void;
  /** The workspace manager and tunnel registry; made here (logging nowhere) when not given. */
  workspaces?: WorkspaceManager;
  tunnels?: TunnelRegistry;
  /** Services, ports and logs; made here over the workspace manager when not given. */
  services?: ServicesManager;
  /** Where tool calls of `vendetta mcp` are recorded; nowhere when not given. */
  log?: Logger;
}

export function createHandlers(deps: HandlerDeps): HandlerTable {
  const { manager } = deps;
  const workspaces = deps.workspaces ?? new WorkspaceManager({ paths: deps.paths, log: nullLogger, nodes: manager });
  const tunnels = deps.tunnels ?? new TunnelRegistry(nullLogger);
  const services = deps.services ?? new ServicesManager(workspaces, nullLogger);
  return {
    ...workspaceHandlers(workspaces, tunnels, (record, ports) => services.forwardAll(record, ports)),
    ...servicesHandlers(services),
    logToolCall: toolCallLogHandler(deps.log ?? nullLogger),
    initialize: {
      validate(raw) {
        const p = v.paramsObject(raw, 'initialize', ['protocolVersion', 'client']);
        if (typeof p.protocolVersion !== 'number' || !Number.isInteger(p.protocolVersion)) {
          throw new VendettaError('INVALID_PARAMS', 'initialize: protocolVersion must be a whole number', {
            hint: `This coordinator speaks protocol ${COORDINATOR_PROTOCOL_VERSION}.`,
          });
        }
        const c = p.client as { name?: unknown; version?: unknown } | undefined;
        if (
          typeof c !== 'object' ||
          c === null ||
          typeof c.name !== 'string' ||
          typeof c.version !== 'string' ||
          c.name.length > 100 ||
          c.version.length > 100
        ) {
          throw new VendettaError('INVALID_PARAMS', 'initialize: client must be {name, version} (strings)', {
            hint: 'Send client: {"name": "vendetta-cli", "version": "1.2.3"}.',
          });
        }
        return { protocolVersion: p.protocolVersion, client: { name: c.name, version: c.version } };
      },
      run(p, ctx) {
        if (p.protocolVersion !== COORDINATOR_PROTOCOL_VERSION) {
          const clientNewer = p.protocolVersion > COORDINATOR_PROTOCOL_VERSION;
          throw new VendettaError(
            'PROTOCOL_MISMATCH',
            `${p.client.name} ${p.client.version} speaks coordinator protocol ${p.protocolVersion}; the running coordinator (vendetta ${VERSION}) speaks ${COORDINATOR_PROTOCOL_VERSION}`,
            {
              hint: clientNewer
                ? 'The running coordinator is older: stop it with `vendetta coordinator stop`; the next command starts the new one.'
                : `Upgrade ${p.client.name} to match vendetta ${VERSION}.`,
              details: {
                coordinatorProtocol: COORDINATOR_PROTOCOL_VERSION,
                clientProtocol: p.protocolVersion,
                coordinatorVersion: VERSION,
              },
            },
          );
        }
        ctx.client.initialized = p;
        return {
          protocolVersion: COORDINATOR_PROTOCOL_VERSION,
          coordinatorVersion: VERSION,
          pid: process.pid,
          home: deps.paths.root,
          startedAt: deps.startedAt.toISOString(),
        };
      },
    },

    inspectCoordinator: {
      validate: (raw) => (v.paramsObject(raw, 'coordinator/inspect', []), undefined),
      run() {
        const status: CoordinatorStatus = {
          pid: process.pid,
          version: VERSION,
          home: deps.paths.root,
          startedAt: deps.startedAt.toISOString(),
          uptimeSeconds: Math.round((Date.now() - deps.startedAt.getTime()) / 1000),
          clients: deps.clientCount(),
          nodes: manager.size,
          connectedNodes: manager.connectedCount,
          memoryRssBytes: process.memoryUsage().rss,
        };
        const problem = deps.registry.problem;
        if (problem) status.registryError = { ...problem };
        return status;
      },
    },

    coordinatorShutdown: {
      validate: (raw) => (v.paramsObject(raw, 'coordinator/shutdown', []), undefined),
      run() {
        deps.shutdown();
        return { pid: process.pid };
      },
    },

    listNodes: {
      validate: (raw) => (v.paramsObject(raw, 'nodes/list', []), undefined),
      run: () => manager.list(),
    },

    inspectNodes: {
      validate(raw) {
        const p = v.paramsObject(raw, 'nodes/inspect', ['name']);
        const name = v.optional(p.name, (x) => v.nodeName(x));
        return name === undefined ? {} : { name };
      },
      run: (p) => manager.status(p.name),
    },

    probeHostKey: {
      validate(raw) {
        const p = v.paramsObject(raw, 'nodes/probeHostKey', ['host', 'port']);
        const port = v.optional(p.port, (x) => v.port(x));
        return { host: v.host(p.host), ...(port !== undefined ? { port } : {}) };
      },
      async run(p) {
        const port = p.port ?? 22;
        const key = await deps.ssh.probeHostKey(p.host, port);
        return {
          keyType: key.keyType,
          fingerprint: key.fingerprint,
          pinned: deps.ssh.lookupPin(p.host, port)?.fingerprint ?? null,
        };
      },
    },

    addNode: {
      validate: validateAddNode,
      run: (p, ctx) => manager.add({ ...p, port: p.port ?? 22, user: p.user ?? localUser() }, ctx.progress, ctx.token),
    },

    removeNode: {
      validate: validateRemoveNode,
      async run(p, ctx) {
        if (!p.purge) return manager.remove(p.name, false);
        manager.assertRemovable(p.name);
        if (p.dryRun)
          return {
            name: p.name,
            purged: false,
            dryRun: true,
            workspaces: await planNodePurge(workspaces, p.name, ctx.token),
          };
        let removed: PurgedWorkspace[] = [];
        const r = await manager.remove(p.name, true, async () => {
          removed = await purgeNodeWorkspaces(workspaces, p.name, p.workspaces, ctx.token);
        });
        return { ...r, workspaces: removed };
      },
    },

    testNode: {
      validate: (raw) => ({ name: v.nodeName(v.paramsObject(raw, 'nodes/test', ['name']).name) }),
      run: (p) => manager.test(p.name),
    },

    prepareNode: {
      validate: (raw) => {
        const p = v.paramsObject(raw, 'nodes/prepare', ['name', 'provider', 'dryRun', 'progressToken']);
        const dryRun = v.optional(p.dryRun, (x) => v.boolean(x, 'dryRun'));
        const token = v.optional(p.progressToken, (x) => v.token(x, 'progressToken'));
        return {
          name: v.nodeName(p.name),
          provider: v.oneOf(PREPARE_PROVIDERS, 'provider')(p.provider),
          dryRun: dryRun ?? false,
          ...(token !== undefined ? { progressToken: token } : {}),
        };
      },
      run: (p, ctx) => manager.prepare(p.name, p.provider, p.dryRun === true, ctx.progress),
    },

    pingNode: {
      validate: (raw) => ({ name: v.nodeName(v.paramsObject(raw, 'nodes/ping', ['name']).name) }),
      run: (p) => manager.ping(p.name),
    },
  };
}

export function validateAddNode(raw: unknown): AddNodeParams {
  const p = v.paramsObject(raw, 'nodes/add', [
    'name',
    'host',
    'port',
    'user',
    'identity',
    'hostKeyFingerprint',
    'acceptNewHostKey',
    'replaceHostKey',
    'install',
    'installRuntime',
    'labels',
    'progressToken',
  ]);
  const out: AddNodeParams = { name: v.nodeName(p.name), host: v.host(p.host) };
  const port = v.optional(p.port, (x) => v.port(x));
  if (port !== undefined) out.port = port;
  const user = v.optional(p.user, v.user);
  if (user !== undefined) out.user = user;
  const identity = v.optional(p.identity, v.identityPath);
  if (identity !== undefined) out.identity = identity;
  const fp = v.optional(p.hostKeyFingerprint, (x) => v.fingerprint(x));
  if (fp !== undefined) out.hostKeyFingerprint = fp;
  const accept = v.optional(p.acceptNewHostKey, (x) => v.boolean(x, 'acceptNewHostKey'));
  if (accept !== undefined) out.acceptNewHostKey = accept;
  if (fp !== undefined && accept) {
    throw new VendettaError('INVALID_PARAMS', 'Give either a host-key fingerprint or accept-new-host-key, not both', {
      hint: 'Use --host-key-fingerprint when you know the fingerprint, --accept-new-host-key otherwise.',
    });
  }
  const replace = v.optional(p.replaceHostKey, (x) => v.boolean(x, 'replaceHostKey'));
  if (replace !== undefined) out.replaceHostKey = replace;
  const install = v.optional(p.install, (x) => v.boolean(x, 'install'));
  if (install !== undefined) out.install = install;
  const runtime = v.optional(p.installRuntime, v.oneOf(RUNTIME_CHOICES, 'installRuntime'));
  if (runtime !== undefined) out.installRuntime = runtime;
  const labels = v.optional(p.labels, v.labels);
  if (labels !== undefined) out.labels = labels;
  const token = v.optional(p.progressToken, (x) => v.token(x, 'progressToken'));
  if (token !== undefined) out.progressToken = token;
  return out;
}

export function validateRemoveNode(raw: unknown): RemoveNodeParams {
  const p = v.paramsObject(raw, 'nodes/remove', ['name', 'purge', 'dryRun', 'workspaces']);
  const out: RemoveNodeParams = {
    name: v.nodeName(p.name),
    purge: v.optional(p.purge, (x) => v.boolean(x, 'purge')) ?? false,
  };
  const dryRun = v.optional(p.dryRun, (x) => v.boolean(x, 'dryRun'));
  if (p.workspaces !== undefined) {
    if (!Array.isArray(p.workspaces) || p.workspaces.length > 10_000)
      throw new VendettaError('INVALID_PARAMS', 'nodes/remove: workspaces must be a list of workspace names', {
        hint: 'Send the names a dry run listed.',
      });
    out.workspaces = p.workspaces.map((w) => workspaceName(w, 'workspaces'));
  }
  if ((dryRun || out.workspaces) && !out.purge)
    throw new VendettaError('INVALID_PARAMS', 'nodes/remove: dryRun and workspaces go with purge', {
      hint: 'Add purge: true, or leave them out.',
    });
  if (dryRun) out.dryRun = true;
  return out;
}
