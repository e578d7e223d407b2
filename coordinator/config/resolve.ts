/** A validated config with every default filled in and durations and sizes as numbers. */
import type {
  Command,
  DockerBuildConfig,
  DockerRunConfig,
  EnvMap,
  ForwardPort,
  ResolvedDockerRun,
  HealthcheckConfig,
  ResolvedHealthcheck,
  ResolvedService,
  ResolvedWorkspaceConfig,
  ServiceConfig,
  WorkspaceConfig,
} from './types';
import { parseDuration, parseSize } from './units';

export const WORKSPACE_DEFAULTS = {
  provider: 'docker',
  node: 'local',
  dockerImage: 'vendetta/debian:bookworm',
  lxcImage: 'debian/bookworm',
  qemuImage: '/var/lib/vendetta/images/debian.qcow2',
  qemuCpus: 2,
  qemuMemory: '2g',
  qemuDisk: '20g',
  healthInterval: '2s',
  healthTimeout: '2s',
  healthRetries: 15,
  healthStartPeriod: '0s',
  restart: 'on-failure',
  reload: 'on-sync',
} as const;

/**
 * Expects a config that validateWorkspaceConfigText accepted; throws a RangeError on a bad
 * duration or size, which validation would have reported.
 */
export function resolveWorkspaceConfig(config: WorkspaceConfig): ResolvedWorkspaceConfig {
  const d = WORKSPACE_DEFAULTS;
  const optSize = (s: string | number | undefined) => (s === undefined ? undefined : parseSize(s));
  const docker = config.docker ?? {};
  const lxc = config.lxc ?? {};
  const qemu = config.qemu ?? {};
  const resolved: ResolvedWorkspaceConfig = {
    name: config.name,
    provider: config.provider ?? d.provider,
    node: config.node ?? d.node,
    docker: {
      image: docker.image ?? d.dockerImage,
      ...(docker.build ? { build: resolveBuild(docker.build) } : {}),
      ...(docker.features && Object.keys(docker.features).length ? { features: structuredClone(docker.features) } : {}),
      ...(docker.featureInstallOrder ? { featureInstallOrder: [...docker.featureInstallOrder] } : {}),
      ...(docker.run ? { run: resolveRun(docker.run) } : {}),
      ...defined({ cpus: docker.cpus, memoryBytes: optSize(docker.memory), pids: docker.pids }),
    },
    lxc: {
      image: lxc.image ?? d.lxcImage,
      ...defined({
        profiles: lxc.profiles ? [...lxc.profiles] : undefined,
        config: lxc.config ? { ...lxc.config } : undefined,
        target: lxc.target,
        cpus: lxc.cpus,
        memoryBytes: optSize(lxc.memory),
      }),
    },
    qemu: {
      image: qemu.image ?? d.qemuImage,
      cpus: qemu.cpus ?? d.qemuCpus,
      memoryBytes: parseSize(qemu.memory ?? d.qemuMemory),
      diskBytes: parseSize(qemu.disk ?? d.qemuDisk),
      accel: qemu.accel ?? 'auto',
      projectShare: qemu.projectShare ?? 'auto',
      ...defined({ imageSha256: qemu.imageSha256, kernel: qemu.kernel, initrd: qemu.initrd, append: qemu.append }),
    },
    env: envStrings(config.env),
    ...(config.remoteEnv && Object.keys(config.remoteEnv).length ? { remoteEnv: envStrings(config.remoteEnv) } : {}),
    services: startOrder(config.services ?? {}).map(([name, svc]) => resolveService(name, svc)),
    hooks: { ...config.hooks },
    forwardPorts: (config.forwardPorts ?? []).map(forwardPort),
    portsAttributes: Object.entries(config.portsAttributes ?? {}).map(([key, attributes]) => {
      const [from, to = from] = key.split('-').map(Number) as [number, number?];
      return { from, to, attributes: { ...attributes } };
    }),
    workspaceFolder: config.workspaceFolder ?? `/workspaces/${config.name}`,
    forwardAgent: config.forwardAgent ?? false,
  };
  if (config.otherPortsAttributes) resolved.otherPortsAttributes = { ...config.otherPortsAttributes };
  if (config.user !== undefined) resolved.user = config.user;
  if (config.vscode) resolved.vscode = structuredClone(config.vscode);
  if (config.idleTimeout !== undefined) resolved.idleTimeoutMs = parseDuration(config.idleTimeout);
  if (config.secretsFile !== undefined) resolved.secretsFile = config.secretsFile;
  return resolved;
}

/** `8080` or `"web:8080"` (validated already: the service exists). */
function forwardPort(entry: number | string): ForwardPort {
  if (typeof entry === 'number') return { port: entry };
  const cut = entry.lastIndexOf(':');
  return { port: Number(entry.slice(cut + 1)), service: entry.slice(0, cut) };
}

function resolveBuild(b: DockerBuildConfig): ResolvedWorkspaceConfig['docker']['build'] {
  return {
    context: b.context ?? '.',
    dockerfile: b.dockerfile ?? 'Dockerfile',
    ...(b.args ? { args: { ...b.args } } : {}),
    ...(b.target !== undefined ? { target: b.target } : {}),
  };
}

function resolveRun(r: DockerRunConfig): ResolvedDockerRun {
  const { shmSize, ...rest } = structuredClone(r);
  return { ...rest, ...(shmSize !== undefined ? { shmSizeBytes: parseSize(shmSize) } : {}) };
}

function resolveService(name: string, svc: ServiceConfig): ResolvedService {
  const out: ResolvedService = {
    name,
    command: svc.command,
    env: envStrings(svc.env),
    dependsOn: [...(svc.depends_on ?? [])],
    restart: svc.restart ?? WORKSPACE_DEFAULTS.restart,
    reload: svc.reload ?? WORKSPACE_DEFAULTS.reload,
  };
  if (svc.port !== undefined) out.port = svc.port;
  if (svc.healthcheck) out.healthcheck = resolveHealthcheck(svc.healthcheck);
  return out;
}

function resolveHealthcheck(hc: HealthcheckConfig): ResolvedHealthcheck {
  const d = WORKSPACE_DEFAULTS;
  const timing = {
    intervalMs: parseDuration(hc.interval ?? d.healthInterval),
    timeoutMs: parseDuration(hc.timeout ?? d.healthTimeout),
    retries: hc.retries ?? d.healthRetries,
    startPeriodMs: parseDuration(hc.start_period ?? d.healthStartPeriod),
  };
  if (hc.http !== undefined) return { kind: 'http', url: hc.http, ...timing };
  if (hc.tcp !== undefined) return { kind: 'tcp', port: hc.tcp, ...timing };
  if (hc.command !== undefined) return { kind: 'command', command: hc.command as Command, ...timing };
  throw new RangeError('a healthcheck needs one of http, tcp or command');
}

/** Services in file order, each moved after its dependencies (Kahn's algorithm, stable). */
function startOrder(services: Record<string, ServiceConfig>): [string, ServiceConfig][] {
  const entries = Object.entries(services);
  const placed = new Set<string>();
  const out: [string, ServiceConfig][] = [];
  let progress = true;
  while (out.length < entries.length && progress) {
    progress = false;
    for (const [name, svc] of entries) {
      if (placed.has(name)) continue;
      if ((svc.depends_on ?? []).every((dep) => placed.has(dep) || !(dep in services))) {
        placed.add(name);
        out.push([name, svc]);
        progress = true;
      }
    }
  }
  // A cycle (which validation reports) cannot be ordered; keep the rest in file order.
  for (const e of entries) if (!placed.has(e[0])) out.push(e);
  return out;
}

function envStrings(env: EnvMap | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env ?? {})) out[k] = String(v);
  return out;
}

function defined<T extends Record<string, unknown>>(obj: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: Exclude<T[K], undefined> };
}
