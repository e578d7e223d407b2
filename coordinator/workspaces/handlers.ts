/** The coordinator's workspace requests: params validated at the boundary, then the manager. */
import { parseDotfiles } from './dotfiles';
import { isAbsolute, normalize } from 'node:path';
import { RUNNABLE_PROVIDERS } from '../../agent/protocol';
import type { HandlerTable } from '../daemon/handlerTable';
import * as v from '../daemon/validate';
import { VendettaError } from '../errors';
import type {
  ReadWorkspaceFileParams,
  RemoveWorkspaceParams,
  ResolveConflictParams,
  WorkspaceProvider,
  WorkspaceRef,
  WorkspaceUpParams,
} from '../protocol';
import { syncedPath } from '../sync/fileList';
import { parseGitSource } from './gitClone';
import type { WorkspaceManager } from './manager';
import type { PortForwarder } from './operations';
import { parseAlias, workspaceName } from './names';
import type { TunnelRegistry } from './tunnels';

type WorkspaceHandlers = Pick<
  HandlerTable,
  | 'workspaceUp'
  | 'listWorkspaces'
  | 'inspectWorkspace'
  | 'startWorkspace'
  | 'stopWorkspace'
  | 'removeWorkspace'
  | 'tunnelOpen'
  | 'resolveConflict'
  | 'readWorkspaceFile'
>;

export function projectPath(x: unknown): string {
  if (typeof x !== 'string' || x.length === 0 || x.length > 4096 || x.includes('\0') || !isAbsolute(x)) {
    throw new VendettaError(
      'INVALID_PARAMS',
      `Invalid project path: ${typeof x === 'string' ? v.quote(x) : 'not a string'}`,
      {
        hint: 'Send the absolute path of the project folder (the CLI resolves a relative one first).',
      },
    );
  }
  return normalize(x).replace(/(.)\/+$/, '$1');
}

export function provider(x: unknown): WorkspaceProvider {
  if (typeof x !== 'string' || !RUNNABLE_PROVIDERS.includes(x as WorkspaceProvider)) {
    throw new VendettaError(
      'INVALID_PARAMS',
      `Invalid provider: ${typeof x === 'string' ? v.quote(x) : 'not a string'}`,
      { hint: `Choose one of ${RUNNABLE_PROVIDERS.join(', ')}.` },
    );
  }
  return x as WorkspaceProvider;
}

export function validateUp(raw: unknown): WorkspaceUpParams {
  const p = v.paramsObject(raw, 'workspaces/up', [
    'path',
    'node',
    'provider',
    'name',
    'git',
    'forward',
    'recreate',
    'overwrite',
    'config',
    'localEnv',
    'dotfiles',
    'progressToken',
  ]);
  const out: WorkspaceUpParams = { path: projectPath(p.path) };
  const node = v.optional(p.node, (x) => v.nodeName(x));
  if (node !== undefined) out.node = node;
  const prov = v.optional(p.provider, provider);
  if (prov !== undefined) out.provider = prov;
  const name = v.optional(p.name, (x) => workspaceName(x));
  if (name !== undefined) out.name = name;
  if (p.git !== undefined) {
    parseGitSource(p.git);
    out.git = p.git as string;
  }
  if (v.optional(p.forward, (x) => v.boolean(x, 'forward'))) out.forward = true;
  if (v.optional(p.recreate, (x) => v.boolean(x, 'recreate'))) out.recreate = true;
  if (v.optional(p.overwrite, (x) => v.boolean(x, 'overwrite'))) out.overwrite = true;
  if (p.config !== undefined) {
    if (typeof p.config !== 'string' || p.config.length === 0 || p.config.length > 4096 || p.config.includes('\0'))
      throw new VendettaError('INVALID_PARAMS', 'workspaces/up: config must be a path', {
        hint: 'Give the config file, e.g. .devcontainer/python/devcontainer.json.',
      });
    out.config = p.config;
  }
  if (p.localEnv !== undefined) out.localEnv = localEnv(p.localEnv);
  const dotfiles = parseDotfiles(p.dotfiles);
  if (dotfiles) out.dotfiles = dotfiles;
  const token = v.optional(p.progressToken, (x) => v.token(x, 'progressToken'));
  if (token !== undefined) out.progressToken = token;
  return out;
}

/** A client's environment: names to strings, of a size an environment has. */
function localEnv(x: unknown): Record<string, string> {
  const bad = () =>
    new VendettaError('INVALID_PARAMS', 'workspaces/up: localEnv must be an object of names to strings', {
      hint: 'Send the environment as { "NAME": "value" } (at most 4096 variables of 128 KiB).',
    });
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw bad();
  const entries = Object.entries(x);
  if (entries.length > 4096) throw bad();
  const out: Record<string, string> = {};
  for (const [k, val] of entries) {
    if (typeof val !== 'string' || k.length > 1024 || val.length > 131072) throw bad();
    out[k] = val;
  }
  return out;
}

export function validateRef(raw: unknown, method: string): WorkspaceRef {
  const p = v.paramsObject(raw, method, ['name', 'node']);
  const node = v.optional(p.node, (x) => v.nodeName(x));
  return { name: workspaceName(p.name), ...(node !== undefined ? { node } : {}) };
}

export function validateRemove(raw: unknown): RemoveWorkspaceParams {
  const p = v.paramsObject(raw, 'workspaces/remove', ['name', 'node', 'force']);
  const node = v.optional(p.node, (x) => v.nodeName(x));
  const force = v.optional(p.force, (x) => v.boolean(x, 'force'));
  return { name: workspaceName(p.name), ...(node !== undefined ? { node } : {}), ...(force ? { force } : {}) };
}

export function validateResolve(raw: unknown): ResolveConflictParams {
  const m = 'workspaces/resolveConflict';
  const p = v.paramsObject(raw, m, ['name', 'node', 'path', 'take']);
  if (p.take !== 'local' && p.take !== 'workspace')
    throw new VendettaError('INVALID_PARAMS', `${m}: take must be "local" or "workspace"`, {
      hint: 'Send take: "local" to send this folder\'s version, "workspace" to keep the workspace\'s.',
    });
  return { ...validateRef({ name: p.name, node: p.node }, m), path: syncedPath(p.path, m), take: p.take };
}

export function validateReadFile(raw: unknown): ReadWorkspaceFileParams {
  const m = 'workspaces/readFile';
  const p = v.paramsObject(raw, m, ['name', 'node', 'path']);
  return { ...validateRef({ name: p.name, node: p.node }, m), path: syncedPath(p.path, m) };
}

export function workspaceHandlers(
  workspaces: WorkspaceManager,
  tunnels: TunnelRegistry,
  forwardPorts: PortForwarder,
): WorkspaceHandlers {
  return {
    workspaceUp: {
      validate: validateUp,
      run: (p, ctx) => workspaces.up(p, ctx.progress, ctx.token, forwardPorts),
    },
    listWorkspaces: {
      validate: (raw) => (v.paramsObject(raw, 'workspaces/list', []), {}),
      run: () => workspaces.list(),
    },
    inspectWorkspace: {
      validate: (raw) => validateRef(raw, 'workspaces/inspect'),
      run: (p) => workspaces.status(p),
    },
    startWorkspace: {
      validate: (raw) => validateRef(raw, 'workspaces/start'),
      run: (p, ctx) => workspaces.start(p, ctx.token),
    },
    stopWorkspace: {
      validate: (raw) => validateRef(raw, 'workspaces/stop'),
      run: (p, ctx) => workspaces.stop(p, ctx.token),
    },
    removeWorkspace: {
      validate: validateRemove,
      run: (p, ctx) => workspaces.remove(p, ctx.token),
    },
    resolveConflict: {
      validate: validateResolve,
      run: (p, ctx) => workspaces.resolveConflict(p, ctx.token),
    },
    readWorkspaceFile: {
      validate: validateReadFile,
      run: (p, ctx) => workspaces.readSyncedFile(p, ctx.token),
    },
    tunnelOpen: {
      validate: (raw) => {
        const p = v.paramsObject(raw, 'tunnels/open', ['alias', 'name', 'node', 'start']);
        const start = v.optional(p.start, (x) => v.boolean(x, 'start')) === true ? { start: true } : {};
        if (p.alias !== undefined) {
          if (p.name !== undefined || p.node !== undefined)
            throw new VendettaError('INVALID_PARAMS', 'tunnels/open: give either alias or name (and node), not both', {
              hint: 'Send {"alias": "hello.local.vendetta"} or {"name": "hello"}.',
            });
          // The alias is kept: only an SSH client (ssh-proxy) asks by alias, and it is an attach.
          return { ...parseAlias(p.alias), alias: String(p.alias), ...start };
        }
        return {
          ...validateRef({ name: p.name, ...(p.node !== undefined ? { node: p.node } : {}) }, 'tunnels/open'),
          ...start,
        };
      },
      async run(p, ctx) {
        const record = workspaces.resolve({ name: p.name!, ...(p.node !== undefined ? { node: p.node } : {}) });
        const startedMs = p.start ? await workspaces.wake(record, ctx.token) : undefined;
        const stream = await workspaces.openSsh(record);
        const { token, expiresInMs } = tunnels.register(stream, record.sshHost);
        if (p.alias !== undefined) workspaces.attached(record);
        return {
          token,
          expiresInMs,
          alias: record.sshHost,
          name: record.name,
          node: record.node,
          user: record.user,
          identityFile: workspaces.identityFile,
          knownHostsFile: workspaces.paths.knownHosts,
          workspaceFolder: record.workspaceFolder,
          ...(startedMs !== undefined ? { startedMs } : {}),
        };
      },
    },
  };
}
