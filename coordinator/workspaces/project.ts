/**
 * From a project folder to what the agent is asked to build: the config loaded and validated
 * (errors located as file:line:col), defaults applied, CLI overrides on top.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import {
  builtImagePrefix,
  HOOK_NAMES,
  type DockerSettings,
  type GitIdentity,
  type HookCommand,
  type ServiceCommand,
  type ServiceSpec,
  type WorkspaceHooksSpec,
  type WorkspaceSpec,
  type WorkspaceSpecCommon,
} from '../../agent/protocol';
import type { QemuSettings } from '../../agent/protocol';
import {
  hasErrors,
  loadWorkspaceConfig,
  resolveWorkspaceConfig,
  type Diagnostic,
  type ResolvedService,
  type ResolvedWorkspaceConfig,
} from '../config';
import { VendettaError } from '../errors';
import type { WorkspaceProvider } from '../protocol';
import { workspaceName } from './names';

export interface LoadedProject {
  path: string;
  /** The config file that was read (.vendetta/config.yaml or a devcontainer.json). */
  file: string;
  config: ResolvedWorkspaceConfig;
  /** What the config says that is ignored or not supported (its errors refuse the load). */
  warnings: Diagnostic[];
}

const NOT_A_PROJECT_HINT =
  'Run it in a project folder with .vendetta/config.yaml (examples/hello has a small complete one), or give that folder as PATH.';

/** `configFile` (relative to the project, or absolute) picks the config when the project has several. */
export async function loadProject(
  path: string,
  configFile?: string,
  localEnv?: Record<string, string>,
): Promise<LoadedProject> {
  let isDir = false;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw new VendettaError('CONFIG_INVALID', `${path} is not a project: no such folder`, {
      hint: NOT_A_PROJECT_HINT,
      cause: err,
    });
  }
  if (!isDir)
    throw new VendettaError('CONFIG_INVALID', `${path} is not a project: it is a file, not a folder`, {
      hint: NOT_A_PROJECT_HINT,
    });
  const loaded = await loadWorkspaceConfig(
    configFile !== undefined ? configInside(path, configFile) : path,
    localEnv ? { env: localEnv } : {},
  );
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.some((d) => d.code === 'no-config')) {
    throw new VendettaError(
      'CONFIG_INVALID',
      `${path} is not a project: it has no .vendetta/config.yaml or .devcontainer/devcontainer.json`,
      { hint: NOT_A_PROJECT_HINT },
    );
  }
  if (hasErrors(loaded.diagnostics) || !loaded.config) {
    throw new VendettaError('CONFIG_INVALID', configErrorMessage(errors), {
      hint:
        errors.length === 1 && errors[0]?.hint
          ? errors[0].hint
          : `\`vendetta config validate ${path}\` lists every problem.`,
      details: { diagnostics: errors.map((d) => ({ file: d.file, line: d.line, col: d.col, message: d.message })) },
    });
  }
  return {
    path,
    file: loaded.file,
    config: resolveWorkspaceConfig(loaded.config),
    warnings: loaded.diagnostics.filter((d) => d.severity === 'warning'),
  };
}

/** The chosen config file, which must be inside the project (the workspace is made from that folder). */
function configInside(project: string, file: string): string {
  const abs = resolve(project, file);
  const rel = relative(project, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) {
    throw new VendettaError('CONFIG_INVALID', `The config ${file} is not inside the project ${project}`, {
      hint: 'Give a config file of the project, e.g. .devcontainer/python/devcontainer.json.',
    });
  }
  return abs;
}

function configErrorMessage(errors: Diagnostic[]): string {
  const first = errors[0];
  if (!first) return 'The workspace config is invalid';
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
  return `${first.file}:${first.line}:${first.col}: ${first.message}${more}`;
}

export interface SpecOverrides {
  name?: string;
  provider?: WorkspaceProvider;
  /** With `docker.build`: the hash of the build inputs (buildInputs.ts), which names the image. */
  buildHash?: string;
  /** With `docker.features`: the hash of their inputs (featureInputs.ts), which names the image they make. */
  featuresHash?: string;
  /** The node's default idle timeout (nodes.yaml), used when the config sets none. */
  nodeIdleTimeoutMs?: number;
  /** This machine's git identity, for the workspace's ~/.gitconfig. */
  gitIdentity?: GitIdentity;
}

/** The agent's WorkspaceSpec for this project; the login key is the workspace key's public half. */
export function buildSpec(
  config: ResolvedWorkspaceConfig,
  overrides: SpecOverrides,
  authorizedKey: string,
): WorkspaceSpec {
  const name = workspaceName(overrides.name ?? config.name);
  const provider = overrides.provider ?? config.provider;
  const common: WorkspaceSpecCommon = {
    name,
    env: { ...config.env },
    ...(config.remoteEnv ? { remoteEnv: { ...config.remoteEnv } } : {}),
    user: config.user ?? 'root',
    // The config's folder is named after the config's workspace; --name renames it.
    workspaceFolder:
      overrides.name !== undefined && config.workspaceFolder === `/workspaces/${config.name}`
        ? `/workspaces/${name}`
        : config.workspaceFolder,
    authorizedKeys: [authorizedKey],
  };
  const spec = withProviderSettings(provider, common, config, overrides);
  if (config.services.length) spec.services = config.services.map(serviceSpec);
  const hooks = agentHooks(config);
  if (hooks) spec.hooks = hooks;
  if (config.forwardAgent) spec.forwardAgent = true;
  const idle = config.idleTimeoutMs ?? overrides.nodeIdleTimeoutMs;
  if (idle !== undefined) spec.idleTimeoutMs = idle;
  if (overrides.gitIdentity) spec.gitIdentity = { ...overrides.gitIdentity };
  return spec;
}

/** The common part joined with the settings of its provider, as the config resolved them. */
function withProviderSettings(
  provider: WorkspaceProvider,
  common: WorkspaceSpecCommon,
  config: ResolvedWorkspaceConfig,
  overrides: SpecOverrides,
): WorkspaceSpec {
  switch (provider) {
    case 'docker': {
      const d = config.docker;
      // A built image gets a name of its own, never `image` (the shared base image by default).
      if (d.build && overrides.buildHash === undefined)
        throw new Error('buildSpec: docker.build needs the hash of the build inputs');
      const docker: DockerSettings = {
        image: d.build ? `${builtImagePrefix(common.name)}${overrides.buildHash}` : d.image,
      };
      if (d.features) {
        if (overrides.featuresHash === undefined)
          throw new Error('buildSpec: docker.features needs the hash of their inputs');
        // The features are installed on the image above, into an image of their own.
        docker.features = {
          base: docker.image,
          items: Object.entries(d.features).map(([id, options]) => ({ id, options: { ...options } })),
          ...(d.featureInstallOrder ? { installOrder: [...d.featureInstallOrder] } : {}),
        };
        docker.image = `${builtImagePrefix(common.name)}${overrides.featuresHash}`;
      }
      if (d.build) {
        docker.build = { context: d.build.context, dockerfile: d.build.dockerfile };
        if (d.build.args) docker.build.args = { ...d.build.args };
        if (d.build.target !== undefined) docker.build.target = d.build.target;
      }
      if (d.run) docker.run = structuredClone(d.run);
      if (d.cpus !== undefined) docker.cpus = d.cpus;
      if (d.memoryBytes !== undefined) docker.memoryBytes = d.memoryBytes;
      if (d.pids !== undefined) docker.pids = d.pids;
      return { ...common, provider, docker };
    }
    case 'qemu': {
      const q = config.qemu;
      const qemu: QemuSettings = {
        image: q.image,
        cpus: q.cpus,
        memoryBytes: q.memoryBytes,
        diskBytes: q.diskBytes,
        accel: q.accel,
        projectShare: q.projectShare ?? 'auto',
      };
      if (q.imageSha256 !== undefined) qemu.imageSha256 = q.imageSha256;
      if (q.kernel !== undefined) qemu.kernel = q.kernel;
      if (q.initrd !== undefined) qemu.initrd = q.initrd;
      if (q.append !== undefined) qemu.append = q.append;
      return { ...common, provider, qemu };
    }
    case 'lxc':
      return {
        ...common,
        provider,
        lxc: {
          ...config.lxc,
          ...(config.lxc.profiles ? { profiles: [...config.lxc.profiles] } : {}),
          ...(config.lxc.config ? { config: { ...config.lxc.config } } : {}),
        },
      };
    default:
      // The validator refuses a provider this version cannot run before a spec is built.
      throw new Error(`buildSpec: provider ${provider} has no settings in this version`);
  }
}

/** One service as the agent runs it: the resolved config, copied so the spec owns its arrays. */
export function serviceSpec(s: ResolvedService): ServiceSpec {
  const out: ServiceSpec = {
    name: s.name,
    command: copyCommand(s.command),
    env: { ...s.env },
    dependsOn: [...s.dependsOn],
    restart: s.restart,
  };
  if (s.port !== undefined) out.port = s.port;
  if (s.healthcheck) {
    const h = s.healthcheck;
    const timing = {
      intervalMs: h.intervalMs,
      timeoutMs: h.timeoutMs,
      retries: h.retries,
      startPeriodMs: h.startPeriodMs,
    };
    out.healthcheck =
      h.kind === 'http'
        ? { kind: 'http', url: h.url, ...timing }
        : h.kind === 'tcp'
          ? { kind: 'tcp', port: h.port, ...timing }
          : { kind: 'command', command: copyCommand(h.command), ...timing };
  }
  return out;
}

/** The hooks the agent runs (all but `initialize`, which runs where `up` runs); undefined when none. */
export function agentHooks(config: Pick<ResolvedWorkspaceConfig, 'hooks'>): WorkspaceHooksSpec | undefined {
  const hooks: WorkspaceHooksSpec = {};
  for (const n of HOOK_NAMES) {
    const c = config.hooks[n];
    if (c !== undefined) hooks[n] = copyHookCommand(c);
  }
  return Object.keys(hooks).length ? hooks : undefined;
}

function copyHookCommand(c: HookCommand): HookCommand {
  if (typeof c === 'string' || Array.isArray(c)) return copyCommand(c);
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, copyCommand(v)]));
}

function copyCommand(c: ServiceCommand): ServiceCommand {
  return typeof c === 'string' ? c : [...c];
}
